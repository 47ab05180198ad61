//! The cloud tags that carry the catalog's metadata, so other tools (and a catalog rebuilt from
//! the cloud) see the same owner, team, lifecycle and environment.

/// Tags that carry the catalog's metadata into the cloud, so it survives outside the console.
pub const OWNER_TAG: &str = "lambdaport:owner";

pub const TEAM_TAG: &str = "lambdaport:team";

pub const LIFECYCLE_TAG: &str = "lambdaport:lifecycle";

pub const ENVIRONMENT_TAG: &str = "lambdaport:environment";
