//! AWS event-stream framing (`application/vnd.amazon.eventstream`), as InvokeWithResponseStream
//! answers: each message is a prelude (total length, headers length, prelude CRC32), string
//! headers, the payload and a CRC32 of everything before it.

use axum::body::Bytes;

/// One `:message-type: event` message.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    let mut headers = Vec::new();
    for (name, value) in
        [(":event-type", event_type), (":content-type", content_type), (":message-type", "event")]
    {
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        headers.push(7); // string
        headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        headers.extend_from_slice(value.as_bytes());
    }
    let total = 12 + headers.len() + payload.len() + 4;
    let mut message = Vec::with_capacity(total);
    message.extend_from_slice(&(total as u32).to_be_bytes());
    message.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&message);
    message.extend_from_slice(&prelude_crc.to_be_bytes());
    message.extend_from_slice(&headers);
    message.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&message);
    message.extend_from_slice(&message_crc.to_be_bytes());
    Bytes::from(message)
}

#[cfg(test)]
mod tests {
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
}
