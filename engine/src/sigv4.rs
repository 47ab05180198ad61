//! Verifying AWS Signature Version 4 on incoming requests (the `Authorization` header form), as
//! AWS does for `AWS_IAM` Function URLs and, with `--require-signature`, for every API call.
//! The signature is recomputed from the request with the secret of the access key it names.

use axum::http::{HeaderMap, Method};
use hmac::{Hmac, Mac as _};
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
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .get_all(name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        canonical_headers += &format!("{name}:{}\n", values.join(","));
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
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        request.method,
        encode(if request.path.is_empty() { "/" } else { request.path }, true),
        canonical_query(request.query),
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(SignatureError::Invalid(MISMATCH));
    }
    Ok(Caller {
        access_key: access_key.to_owned(),
        service: service.to_owned(),
        region: region.to_owned(),
    })
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
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

/// RFC 3986 encoding of everything but unreserved characters (and `/` in paths). A path is
/// encoded as sent, so its escapes are escaped again: SigV4's double encoding for non-S3 services.
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) || (keep_slash && byte == b'/') {
            out.push(byte as char);
        } else {
            out += &format!("%{byte:02X}");
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each `key=value` decoded, re-encoded strictly and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(&decode(key), false), encode(&decode(value), false))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
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
        assert_eq!(decode("a%2Fb%"), "a/b%");
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
