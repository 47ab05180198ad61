//! Step 5: the Function URL, its auth type and the permission statements it needs.

use leptos::prelude::*;

use crate::api::labs::LabUrl;
use crate::components::forms::outcome;
use crate::types::LabView;

#[component]
pub(super) fn UrlStep(lab: LabView, action: ServerAction<LabUrl>) -> impl IntoView {
    let run_id = lab.run.lab_run_id.clone();
    let auth = lab.auth_type.clone();
    view! {
        {outcome(action.value(), |()| "Function URL saved".to_owned())}
        {(!lab.url.is_empty()).then(|| view! {
            <p>"URL: " <a href=lab.url.clone() data-testid="function-url">{lab.url.clone()}</a> " · auth type " <strong>{lab.auth_type.clone()}</strong></p>
        })}
        {(!lab.statements.is_empty()).then(|| view! {
            <div class="alert" role="note">
                <p><strong>"Anyone on the internet can call this URL."</strong>
                " The console added the two statements AWS requires for a public URL since October 2025:"</p>
                <ul>
                    <li><strong>"FunctionURLAllowPublicAccess"</strong>": anyone (" <code>"Principal: *"</code> ") may call the URL (" <code>"lambda:InvokeFunctionUrl"</code> "), as long as its auth type is NONE."</li>
                    <li><strong>"FunctionURLAllowInvokeAction"</strong>": those calls may invoke the function (" <code>"lambda:InvokeFunction"</code> "), but only through a Function URL."</li>
                </ul>
                {lab.statements.iter().map(|s| view! { <pre class="json">{s.clone()}</pre> }).collect_view()}
            </div>
        })}
        <ActionForm action>
            <input type="hidden" name="lab_run_id" value=run_id.clone() />
            <fieldset>
                <legend>"Auth type"</legend>
                <label class="check"><input type="radio" name="auth_type" value="NONE" checked=auth == "NONE" />" NONE — public, for this lab only"</label>
                <p class="hint warning">"Security: NONE means anyone who knows the URL can call the function. Use it only for a short-lived lab. For production prefer AWS_IAM, or API Gateway with authorization."</p>
                <label class="check"><input type="radio" name="auth_type" value="AWS_IAM" checked=auth == "AWS_IAM" />" AWS_IAM — only SigV4-signed requests from allowed principals"</label>
            </fieldset>
            <label for="lab-cors">"CORS allowed origins (optional)"</label>
            <input id="lab-cors" name="cors" value=lab.cors.clone() placeholder="https://example.com" autocomplete="off" />
            <p class="hint">"Only needed to call the URL from a web page on another origin. For curl, leave it empty."</p>
            <button type="submit" class="btn btn-primary" disabled=action.pending()>
                {move || if action.pending().get() { "Saving…" } else if lab.url.is_empty() { "Create function URL" } else { "Save" }}
            </button>
        </ActionForm>
    }
}
