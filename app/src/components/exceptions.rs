//! Governance findings and exceptions, as the function page and the Violations view show them:
//! each finding with its fix (and, for whoever may change the function, a request for an
//! exception), and the requests with their decision forms (the server checks who may decide).

use leptos::prelude::*;

use crate::api::governance::{DecideException, RequestException};
use crate::types::{ExceptionView, RecordedFinding};

/// A finding's or a rule's severity as a badge.
#[component]
pub fn SeverityBadge(severity: String) -> impl IntoView {
    let class = match severity.as_str() {
        "error" => "badge badge-danger",
        "warning" => "badge badge-warn",
        _ => "badge",
    };
    view! { <span class=class>{severity}</span> }
}

/// One finding: severity, what is wrong, the fix; "excepted" when an exception covers it.
#[component]
pub fn FindingLine(f: RecordedFinding) -> impl IntoView {
    view! {
        <SeverityBadge severity=f.severity />
        {f.excepted.then(|| view! { " " <span class="badge" title="an approved exception covers it">"excepted"</span> })}
        " " {f.message} " " <span class="muted">{f.fix}</span>
    }
}

/// The request form for an exception to the rule behind `finding`, folded away until opened.
#[component]
pub fn RequestForm(
    request: ServerAction<RequestException>,
    function_id: String,
    finding: RecordedFinding,
) -> impl IntoView {
    let id = format!("exception-{}", finding.rule_id);
    let (reason_for, reason_id) = (format!("{id}-reason"), format!("{id}-reason"));
    let (hours_for, hours_id) = (format!("{id}-hours"), format!("{id}-hours"));
    view! {
        <details class="exception-request">
            <summary>"Request an exception"</summary>
            <ActionForm action=request>
                <input type="hidden" name="function_id" value=function_id />
                <input type="hidden" name="rule_id" value=finding.rule_id />
                <label for=reason_for>"Why this function needs one"</label>
                <input id=reason_id name="reason" required maxlength="500" autocomplete="off" />
                <label for=hours_for>"For how many hours (up to 2160, 90 days)"</label>
                <input id=hours_id name="hours" type="number" min="1" max="2160" value="168" required />
                <button type="submit" class="btn btn-small" disabled=request.pending()>"Request exception"</button>
            </ActionForm>
        </details>
    }
}

/// Requests and exceptions in a table; pending ones with approve and reject forms.
#[component]
pub fn ExceptionTable(
    exceptions: Vec<ExceptionView>,
    decide: ServerAction<DecideException>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="exceptions">
                <thead>
                    <tr>
                        <th scope="col">"Function and rule"</th><th scope="col">"Asked by, why"</th>
                        <th scope="col">"Status"</th><th scope="col">"Decision"</th>
                    </tr>
                </thead>
                <tbody>
                    {exceptions.into_iter().map(|e| view! { <ExceptionRow e decide /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn ExceptionRow(e: ExceptionView, decide: ServerAction<DecideException>) -> impl IntoView {
    let status = match (&e.status[..], &e.expires_at) {
        ("approved", Some(at)) => format!("approved until {at}"),
        (status, _) => status.to_owned(),
    };
    let decision = if e.status == "pending" {
        let comment_id = format!("comment-{}", e.exception_id);
        let label = format!("Comment on {}'s request", e.requested_by);
        view! {
            <ActionForm action=decide>
                <input type="hidden" name="exception_id" value=e.exception_id.clone() />
                <input id=comment_id name="comment" maxlength="500" autocomplete="off" aria-label=label
                    placeholder="comment (optional)" />
                <div class="inline-form">
                    <label class="check"><input type="radio" name="decision" value="approve" required />" Approve"</label>
                    <label class="check"><input type="radio" name="decision" value="reject" />" Reject"</label>
                    <button type="submit" class="btn btn-small" disabled=decide.pending()>"Decide"</button>
                </div>
            </ActionForm>
        }
        .into_any()
    } else {
        let by = e.decided_by.clone().map(|by| format!("{by}: ")).unwrap_or_default();
        view! { <span>{by}{e.comment.clone()}</span> }.into_any()
    };
    view! {
        <tr>
            <td><a href=format!("/catalog/{}", e.function_id)>{e.function_name}</a><br /><span class="muted">{e.rule}</span></td>
            <td>{e.requested_by} " — " {e.reason} <br /><span class="muted">{format!("for {} hours", e.hours)}</span></td>
            <td>{status}</td>
            <td>{decision}</td>
        </tr>
    }
}
