//! The reference line of a created incident: the last line of its
//! Symptom, which lets a create whose answer was lost (or a create cut
//! short by a crash) be found again instead of posted twice.
//!
//! The line is `Cloud Exchange reference: <readable prefix> #<digest>`.
//! The digest (the first 16 bytes of the SHA-256 of the whole alert id,
//! in hex) is the alert's identity: two ids sharing a long prefix, or
//! differing only in trailing spaces the tenant trims, get different
//! digests. The prefix is for the analysts who read the line and is never
//! compared.

/// What starts the line.
pub const LABEL: &str = "Cloud Exchange reference: ";
/// Longest readable prefix of the id kept on the line, in characters.
const PREFIX_CHARS: usize = 64;
/// Longest id the previous version wrote whole on its line.
const OLD_ID_CHARS: usize = 128;

/// The reference line of `alert_id`.
pub fn marker(alert_id: &str) -> String {
    let readable: String = alert_id.chars().filter(|c| !c.is_control()).collect();
    let prefix: String = readable.trim().chars().take(PREFIX_CHARS).collect();
    let prefix = prefix.trim_end();
    let sep = if prefix.is_empty() { "" } else { " " };
    format!("{LABEL}{prefix}{sep}#{}", digest_hex(alert_id))
}

/// How an incident made for one alert is recognised in its Symptom.
pub struct Reference {
    /// `#<digest>`: the last word of the line, compared exactly.
    digest: String,
    /// The line the previous version wrote (`LABEL` and the id, controls
    /// removed), for an id it wrote whole: an incident made before an
    /// upgrade is still found on a rerun. None for an id longer than it
    /// kept (its line was shared with other ids) or one ending in
    /// whitespace (the tenant trimmed it off, so it was never exact).
    old_line: Option<String>,
}

impl Reference {
    pub fn of(alert_id: &str) -> Self {
        let id: String = alert_id.chars().filter(|c| !c.is_control()).collect();
        let whole = id.chars().count() <= OLD_ID_CHARS && id.trim_end() == id && !id.is_empty();
        Reference {
            digest: format!("#{}", digest_hex(alert_id)),
            old_line: whole.then(|| format!("{LABEL}{id}")),
        }
    }

    /// Whether `symptom` (as the tenant stores it: trimmed) ends with this
    /// alert's reference line.
    pub fn matches(&self, symptom: &str) -> bool {
        let last = symptom.trim_end().rsplit('\n').next().unwrap_or_default();
        let last = last.trim_end_matches('\r');
        if !last.starts_with(LABEL) {
            return false;
        }
        let token = last.rsplit(' ').next().unwrap_or_default();
        token == self.digest || self.old_line.as_deref() == Some(last)
    }
}

/// The first 16 bytes of SHA-256 of `text`, as 32 lowercase hex digits.
fn digest_hex(text: &str) -> String {
    sha256(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 (FIPS 180-4), small: ids are short, so speed does not matter
/// and no crate is pulled into the component.
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn ids_sharing_a_long_prefix_or_differing_in_spaces_are_told_apart() {
        let a = format!("{}A", "x".repeat(128));
        let b = format!("{}B", "x".repeat(128));
        assert_ne!(marker(&a), marker(&b));
        let symptom_a = format!("text\n\n{}", marker(&a));
        assert!(Reference::of(&a).matches(&symptom_a));
        assert!(!Reference::of(&b).matches(&symptom_a));
        // The tenant trims the Symptom: the line still ends in the digest.
        let spaced = "alert-1 ";
        let stored = format!("text\n\n{}", marker(spaced)).trim().to_owned();
        assert!(Reference::of(spaced).matches(&stored));
        assert!(!Reference::of("alert-1").matches(&stored));
        assert!(marker(spaced).starts_with("Cloud Exchange reference: alert-1 #"));
        assert_eq!(marker(&a).chars().count(), LABEL.len() + 64 + 2 + 32);
        assert!(Reference::of("").matches(&marker("")));
        assert!(Reference::of("\u{1}x\n").matches(&marker("\u{1}x\n")));
    }

    #[test]
    fn incidents_of_the_previous_version_are_still_found() {
        let old = "text\n\nCloud Exchange reference: a1";
        assert!(Reference::of("a1").matches(old));
        assert!(!Reference::of("xa1").matches(old));
        assert!(!Reference::of("a").matches(old));
        // An id the old line cut is never matched by it.
        let long = "y".repeat(129);
        let old_cut = format!("Cloud Exchange reference: {}", &long[..128]);
        assert!(!Reference::of(&long).matches(&old_cut));
        assert!(Reference::of(&long[..128]).matches(&old_cut));
    }
}
