//! AWS event-stream framing (`application/vnd.amazon.eventstream`), as InvokeWithResponseStream
//! answers: written by `aws-smithy-eventstream`, the framing the AWS SDKs read (prelude with
//! lengths and CRC32, typed headers, payload, message CRC32).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::body::Bytes;

/// One `:message-type: event` message.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    let text = |value: &str| HeaderValue::String(value.to_owned().into());
    let message = Message::new(Bytes::copy_from_slice(payload))
        .add_header(Header::new(":event-type", text(event_type)))
        .add_header(Header::new(":content-type", text(content_type)))
        .add_header(Header::new(":message-type", text("event")));
    let mut frame = Vec::with_capacity(payload.len() + 128);
    // Only a header name or value over the format's limits fails, and these are fixed and short.
    write_message_to(&message, &mut frame).expect("an event's headers fit the format");
    Bytes::from(frame)
}

/// One `:message-type: exception` message: an error that ends the stream, in the JSON shape
/// of the service's errors.
pub fn exception(exception_type: &str, message: &str) -> Bytes {
    let text = |value: &str| HeaderValue::String(value.to_owned().into());
    let payload = serde_json::json!({ "message": message }).to_string();
    let message = Message::new(Bytes::from(payload))
        .add_header(Header::new(":exception-type", text(exception_type)))
        .add_header(Header::new(":content-type", text("application/json")))
        .add_header(Header::new(":message-type", text("exception")));
    let mut frame = Vec::new();
    write_message_to(&message, &mut frame).expect("an exception's headers fit the format");
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};

    #[test]
    fn frames_carry_their_lengths_and_checksums() {
        let frame = super::event("PayloadChunk", "application/octet-stream", b"hello");
        let total = u32::from_be_bytes(frame[0..4].try_into().expect("4 bytes")) as usize;
        let headers = u32::from_be_bytes(frame[4..8].try_into().expect("4 bytes")) as usize;
        assert_eq!(total, frame.len());
        assert_eq!(crc32fast::hash(&frame[0..8]).to_be_bytes(), frame[8..12]);
        assert_eq!(&frame[12 + headers..total - 4], b"hello");
        assert_eq!(crc32fast::hash(&frame[..total - 4]).to_be_bytes(), frame[total - 4..]);
    }

    /// What the SDK's own decoder reads back: the headers and the payload, whole.
    #[test]
    fn the_sdk_decoder_reads_the_frames() {
        let mut stream = super::event("PayloadChunk", "application/octet-stream", b"hel").to_vec();
        stream.extend_from_slice(&super::event("InvokeComplete", "application/json", b"{}"));
        let mut buffer = &stream[..];
        let mut decoder = MessageFrameDecoder::new();
        let mut messages = Vec::new();
        while let DecodedFrame::Complete(message) =
            decoder.decode_frame(&mut buffer).expect("valid")
        {
            messages.push(message);
        }
        assert_eq!(messages.len(), 2);
        let event_type = |m: &aws_smithy_types::event_stream::Message| {
            m.headers()
                .iter()
                .find(|h| h.name().as_str() == ":event-type")
                .map(|h| h.value().clone())
        };
        assert_eq!(
            event_type(&messages[0])
                .and_then(|v| v.as_string().ok().map(|s| s.as_str().to_owned())),
            Some("PayloadChunk".to_owned())
        );
        assert_eq!(messages[0].payload().as_ref(), b"hel");
        assert_eq!(messages[1].payload().as_ref(), b"{}");
    }
}
