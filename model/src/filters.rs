//! The catalog's and the audit trail's filters as they appear in a page's URL and in the REST
//! API's query string: text, parsed into queries by `backend` (`catalog::query_for`,
//! `audit::Filter::try_from`).

use serde::{Deserialize, Serialize};

/// The catalog page's filters, as they appear in its URL (every one optional). The REST API takes
/// the same ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct CatalogFilters {
    /// Full-text search over name, description and tags.
    pub q: Option<String>,
    /// The owner's email.
    pub owner: Option<String>,
    /// A team's name.
    pub team: Option<String>,
    /// e.g. `python3.12`.
    pub runtime: Option<String>,
    /// `Active`, `Pending`, `Inactive` or `Failed`.
    pub state: Option<String>,
    /// `experimental`, `production` or `deprecated`.
    pub lifecycle: Option<String>,
    /// `dev`, `staging` or `prod`.
    pub environment: Option<String>,
    /// A connection's id.
    pub connection: Option<String>,
    /// e.g. `us-east-1`.
    pub region: Option<String>,
    /// A tag, as `key=value`.
    pub tag: Option<String>,
    /// `1`: only functions with a public (`NONE`) URL.
    pub public: Option<String>,
    /// `1`: only functions whose cloud tags disagree with the catalog (drift).
    pub drift: Option<String>,
    /// Only functions that break a governance rule: `any`, a rule kind (e.g. `required_tag`) or
    /// a rule's id.
    pub violates: Option<String>,
    /// `shadows`: functions found in the cloud and not imported.
    pub view: Option<String>,
    /// `updated`: most recently changed first; otherwise by name.
    pub sort: Option<String>,
    /// The keyset cursor of the page to show (the previous page's `next`).
    pub after: Option<String>,
}

/// The Audit page's filters, as they appear in its URL. The REST API takes the same ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditFilters {
    /// The actor's email, or `system`.
    pub actor: Option<String>,
    /// An action or its prefix, e.g. `function.`.
    pub action: Option<String>,
    /// Text the target contains.
    pub target: Option<String>,
    /// `YYYY-MM-DD`, UTC.
    pub since: Option<String>,
    /// `YYYY-MM-DD`, UTC, inclusive.
    pub until: Option<String>,
    /// Keyset cursor: events older than this id (the previous page's `next`).
    pub before: Option<String>,
}

/// The instructor board's filters, as they appear in the Labs page's URL (and the CSV export's).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFilters {
    /// The runs' `course` tag.
    pub course: Option<String>,
    /// Text the learner's email contains.
    pub learner: Option<String>,
    /// `in_progress`, `idle`, `stuck`, `completed` or `cleaned_up`.
    pub status: Option<String>,
    /// `started` (newest first), `learner`, `step`, `failures` or `idle`.
    pub sort: Option<String>,
    /// `course` to group the runs by course.
    pub group: Option<String>,
}
