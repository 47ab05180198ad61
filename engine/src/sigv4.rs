//! Verifying AWS Signature Version 4 on incoming requests (the `Authorization` header form), as
//! AWS does for `AWS_IAM` Function URLs and, with `--require-signature`, for every API call.
//! The signature is recomputed by `aws-sigv4` — the signer the AWS SDKs use — from the request's
//! signed parts and the secret of the access key it names, and compared in constant time. What
//! this module adds is the server's side: reading the header, the clock skew, requiring `host`
//! and `x-amz-date` to be signed, and refusing a body whose hash is not the one signed.

use axum::http::{HeaderMap, Method};
use sha2::{Digest as _, Sha256};

/// Who signed a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub access_key: String,
    /// The credential scope's service (`lambda`, `iam`, `logs`, …).
    pub service: String,
    pub region: String,
}

/// Why a request's signature was refused, in AWS's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// No `Authorization` header: the request is anonymous.
    Missing,
    /// An access key the engine does not know.
    UnknownKey,
    /// A signature that does not check out; the message is AWS's.
    Invalid(&'static str),
}

impl SignatureError {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Missing => "Missing Authentication Token",
            Self::UnknownKey => "The security token included in the request is invalid.",
            Self::Invalid(message) => message,
        }
    }

    /// The `x-amzn-ErrorType` AWS answers with.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::UnknownKey => "UnrecognizedClientException",
            Self::Invalid(_) => "InvalidSignatureException",
        }
    }
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const MALFORMED: &str =
    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.";
const EXPIRED: &str =
    "Signature expired: the request time is more than 5 minutes from the server's time.";
const HOST_UNSIGNED: &str = "'Host' and 'X-Amz-Date' must be among the signed headers.";
const BODY_MISMATCH: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";
const UNSIGNED_BODY: &str = "The request body must be signed: UNSIGNED-PAYLOAD is not accepted.";
/// How far a signature's time may be from the engine's, as AWS allows.
const MAX_SKEW_MINUTES: i64 = 5;

/// The request parts a signature covers.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    pub method: &'a Method,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks the request's SigV4 signature against `credentials` (access key → secret).
pub fn verify(
    request: &SignedRequest<'_>,
    credentials: &[(String, String)],
    now: time::OffsetDateTime,
) -> Result<Caller, SignatureError> {
    let authorization = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or(SignatureError::Missing)?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or(SignatureError::Invalid(MALFORMED))?;
    let field = |name: &str| {
        fields.split(',').map(str::trim).find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
    };
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (field("Credential"), field("SignedHeaders"), field("Signature"))
    else {
        return Err(SignatureError::Invalid(MALFORMED));
    };
    let [access_key, date, region, service, "aws4_request"] =
        credential.split('/').collect::<Vec<_>>()[..]
    else {
        return Err(SignatureError::Invalid(MALFORMED));
    };
    let secret = credentials
        .iter()
        .find(|(key, _)| key == access_key)
        .map(|(_, secret)| secret)
        .ok_or(SignatureError::UnknownKey)?;
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let amz_date = header("x-amz-date").ok_or(SignatureError::Invalid(MISMATCH))?;
    let signed_at = parse_amz_date(amz_date).ok_or(SignatureError::Invalid(MISMATCH))?;
    if (now - signed_at).whole_seconds().abs() > MAX_SKEW_MINUTES * 60 {
        return Err(SignatureError::Invalid(EXPIRED));
    }
    if !amz_date.starts_with(date) {
        return Err(SignatureError::Invalid(MISMATCH));
    }

    // A signature must bind the request to this host (else it could be replayed at another)
    // and to its time.
    let signed: Vec<&str> = signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-amz-date") {
        return Err(SignatureError::Invalid(HOST_UNSIGNED));
    }
    // The signature covers the body through its hash: a hash that is not the body's would let
    // a captured request be replayed with another body.
    let payload_hash = hex(&Sha256::digest(request.body));
    match header("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => return Err(SignatureError::Invalid(UNSIGNED_BODY)),
        Some(claimed) if !claimed.eq_ignore_ascii_case(&payload_hash) => {
            return Err(SignatureError::Invalid(BODY_MISMATCH));
        }
        _ => {}
    }
    let scope = Scope { access_key, secret, region, service };
    let expected = signature_of(request, &signed, &scope, signed_at)
        .ok_or(SignatureError::Invalid(MISMATCH))?;
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(SignatureError::Invalid(MISMATCH));
    }
    Ok(Caller {
        access_key: access_key.to_owned(),
        service: service.to_owned(),
        region: region.to_owned(),
    })
}

/// Whose key signed, and for what.
struct Scope<'a> {
    access_key: &'a str,
    secret: &'a str,
    region: &'a str,
    service: &'a str,
}

/// The signature the AWS SDKs' signer computes for the request's signed headers, path, query and
/// body at `signed_at`; `None` when those parts cannot be signed at all (a header that is not
/// text, a path that is not one).
fn signature_of(
    request: &SignedRequest<'_>,
    signed_headers: &[&str],
    scope: &Scope<'_>,
    signed_at: time::OffsetDateTime,
) -> Option<String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let mut headers = Vec::new();
    for name in signed_headers {
        for value in request.headers.get_all(*name) {
            headers.push((*name, value.to_str().ok()?));
        }
    }
    let path = if request.path.is_empty() { "/" } else { request.path };
    // The authority is never signed from here: `host` is one of the signed headers.
    let uri = match request.query {
        "" => format!("http://signed.invalid{path}"),
        query => format!("http://signed.invalid{path}?{query}"),
    };
    let identity = aws_credential_types::Credentials::new(
        scope.access_key,
        scope.secret,
        None,
        None,
        "lambdaport-engine",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Only the signed headers are passed, and each of them counts.
    settings.excluded_headers = None;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(signed_at.into())
        .settings(settings)
        .build()
        .ok()?
        .into();
    let signable = SignableRequest::new(
        request.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body),
    )
    .ok()?;
    Some(sign(signable, &params).ok()?.signature().to_owned())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `20260101T000000Z`.
fn parse_amz_date(text: &str) -> Option<time::OffsetDateTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, &format).ok().map(time::PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published SigV4 example (get-vanilla-query-order-key-case from the test suite).
    #[test]
    fn verifies_the_aws_test_suite_example() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().expect("header"));
        headers.insert("x-amz-date", "20150830T123600Z".parse().expect("header"));
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
                .parse()
                .expect("header"),
        );
        let request = SignedRequest {
            method: &Method::GET,
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &headers,
            body: b"",
        };
        let credentials =
            [("AKIDEXAMPLE".to_owned(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned())];
        let signed_at = parse_amz_date("20150830T123600Z").expect("date");
        let caller = verify(&request, &credentials, signed_at).expect("valid");
        assert_eq!(caller.service, "service");
        let later = signed_at + time::Duration::minutes(6);
        assert_eq!(verify(&request, &credentials, later), Err(SignatureError::Invalid(EXPIRED)));
        let wrong = [("AKIDEXAMPLE".to_owned(), "another".to_owned())];
        assert_eq!(verify(&request, &wrong, signed_at), Err(SignatureError::Invalid(MISMATCH)));
        let other_query = SignedRequest { query: "Param1=value2", ..request };
        assert!(verify(&other_query, &credentials, signed_at).is_err());
    }

    /// AWS's published `get-vanilla` example: the bare request, signed by the suite's key.
    #[test]
    fn verifies_the_aws_test_suite_vanilla_get() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().expect("header"));
        headers.insert("x-amz-date", "20150830T123600Z".parse().expect("header"));
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .parse()
                .expect("header"),
        );
        let request = SignedRequest {
            method: &Method::GET,
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let credentials =
            [("AKIDEXAMPLE".to_owned(), "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned())];
        let signed_at = parse_amz_date("20150830T123600Z").expect("date");
        assert!(verify(&request, &credentials, signed_at).is_ok());
        let post = SignedRequest { method: &Method::POST, ..request };
        assert_eq!(verify(&post, &credentials, signed_at), Err(SignatureError::Invalid(MISMATCH)));
    }

    /// Signs `body` for `host` as the AWS SDK for Rust does, then checks it against `request`.
    fn signed_headers(body: &[u8], host: &str) -> HeaderMap {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let identity =
            aws_credential_types::Credentials::new("test", "test", None, None, "test").into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("lambda")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let url = format!("http://{host}/2015-03-31/functions/f/invocations");
        let request = SignableRequest::new(
            "POST",
            &url,
            [("host", host)].into_iter(),
            SignableBody::Bytes(body),
        )
        .expect("signable");
        let (instructions, _) = sign(request, &params).expect("sign").into_parts();
        let mut headers = HeaderMap::new();
        headers.insert("host", host.parse().expect("host"));
        for (name, value) in instructions.headers() {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        headers
    }

    fn check(headers: &HeaderMap, body: &[u8]) -> Result<Caller, SignatureError> {
        let request = SignedRequest {
            method: &Method::POST,
            path: "/2015-03-31/functions/f/invocations",
            query: "",
            headers,
            body,
        };
        verify(&request, &[("test".to_owned(), "test".to_owned())], time::OffsetDateTime::now_utc())
    }

    /// The review's M6: a captured signed request replayed with another body.
    #[test]
    fn a_signature_covers_the_body_and_the_host() {
        let headers = signed_headers(b"{\"a\":1}", "127.0.0.1:4010");
        assert!(check(&headers, b"{\"a\":1}").is_ok());
        assert!(check(&headers, b"{\"a\":2}").is_err(), "another body");
        // Without the hash header, the body is hashed as the signer did: still refused.
        let mut without = headers.clone();
        without.remove("x-amz-content-sha256");
        assert!(check(&without, b"{\"a\":2}").is_err());
        let mut unsigned = headers.clone();
        unsigned.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().expect("value"));
        assert_eq!(check(&unsigned, b"{\"a\":1}"), Err(SignatureError::Invalid(UNSIGNED_BODY)));
        // A signature whose signed headers leave out `host`.
        let mut hostless = headers;
        let authorization = hostless["authorization"].to_str().expect("text").replace("host;", "");
        hostless.insert("authorization", authorization.parse().expect("value"));
        assert_eq!(check(&hostless, b"{\"a\":1}"), Err(SignatureError::Invalid(HOST_UNSIGNED)));
    }
}
