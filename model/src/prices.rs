//! AWS Lambda's on-demand prices in us-east-1, as data with their date and source (`reference/
//! lambda-protocols.md` §8, from aws.amazon.com/lambda/pricing): the Create and lab pages'
//! estimates, the Monitor tab and Governance → Cost all price with these.

/// When these prices were read from AWS's pricing page.
pub const AS_OF: &str = "2026-12-01";
/// Where they come from.
pub const SOURCE: &str = "aws.amazon.com/lambda/pricing (us-east-1, on-demand, first tier)";

/// An instruction set architecture, for pricing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    /// `arm64` is Graviton; anything else (or nothing known) is priced as x86_64.
    pub fn of(architecture: &str) -> Self {
        if architecture == "arm64" { Self::Arm64 } else { Self::X86_64 }
    }

    /// Duration, first pricing tier, per GB-second.
    pub fn per_gb_second(self) -> f64 {
        match self {
            Self::X86_64 => 0.000_016_666_7,
            Self::Arm64 => 0.000_013_333_4,
        }
    }
}

/// Requests: $0.20 per million.
pub const PER_REQUEST: f64 = 0.000_000_2;
/// The free tier, per account and month, shared by both architectures.
pub const FREE_REQUESTS: f64 = 1_000_000.0;
pub const FREE_GB_SECONDS: f64 = 400_000.0;

/// What `requests` invocations and `gb_seconds` of duration cost in US dollars before the free
/// tier, in us-east-1's first tier: (requests, duration).
pub fn cost_of(requests: f64, gb_seconds: f64, arch: Arch) -> (f64, f64) {
    (requests * PER_REQUEST, gb_seconds * arch.per_gb_second())
}
