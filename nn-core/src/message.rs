//! Messages of the compile-time checks `network!` emits where sizes are `const` items: text and the values of
//! those items, put together while the constants are evaluated, so that a failed check says
//! `expects WIDE = 64 inputs, found HIDDEN = 128` instead of naming the items alone.

/// The longest message, in bytes; longer ones are cut at a character boundary.
const CAPACITY: usize = 1024;

/// A message built by `const fn`s: `ConstMessage::new().text("WIDE = ").num(WIDE)`, read with
/// [`ConstMessage::as_str`] in `assert!(cond, "{}", MESSAGE.as_str())`.
#[doc(hidden)]
pub struct ConstMessage {
    /// The bytes written so far, UTF-8.
    bytes: [u8; CAPACITY],
    /// How many.
    len: usize,
}

impl ConstMessage {
    /// An empty message.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ConstMessage { bytes: [0; CAPACITY], len: 0 }
    }

    /// The message followed by `s` (cut at the last character that fits).
    pub const fn text(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        // A character is copied whole or not at all: its length from its first byte.
        while i < b.len() {
            let width = match b[i] {
                0..0x80 => 1,
                0xC0..0xE0 => 2,
                0xE0..0xF0 => 3,
                _ => 4,
            };
            if self.len + width > CAPACITY || i + width > b.len() {
                break;
            }
            let mut k = 0;
            while k < width {
                self.bytes[self.len] = b[i + k];
                self.len += 1;
                k += 1;
            }
            i += width;
        }
        self
    }

    /// The message followed by `n` in decimal.
    pub const fn num(mut self, mut n: usize) -> Self {
        let mut digits = [0u8; 20];
        let mut k = 0;
        loop {
            digits[k] = b'0' + (n % 10) as u8;
            k += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if self.len + k > CAPACITY {
            return self;
        }
        while k > 0 {
            k -= 1;
            self.bytes[self.len] = digits[k];
            self.len += 1;
        }
        self
    }

    /// The message.
    pub const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(s) => s,
            Err(_) => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDE: usize = 64;
    const MESSAGE: ConstMessage =
        ConstMessage::new().text("`out` expects WIDE = ").num(WIDE).text(" inputs, found ").num(0);

    #[test]
    fn messages_hold_text_and_numbers_and_stop_at_a_character_boundary() {
        assert_eq!(MESSAGE.as_str(), "`out` expects WIDE = 64 inputs, found 0");
        assert_eq!(ConstMessage::new().num(1_234_567_890).num(0).as_str(), "12345678900");
        // 1,023 ASCII bytes leave no room for a two-byte character: it is left out whole.
        let bytes = [b'x'; CAPACITY - 1];
        let long = core::str::from_utf8(&bytes).unwrap();
        let m = ConstMessage::new().text(long).text("é and more");
        assert_eq!(m.as_str(), long);
        let m = ConstMessage::new().text("größe ").num(7);
        assert_eq!(m.as_str(), "größe 7");
    }
}
