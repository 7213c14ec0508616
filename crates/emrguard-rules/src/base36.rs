//! The base36 encoding of a role name that `aws emr-containers update-role-trust-policy` puts at
//! the end of EMR's service-account names (domain.md §1.3, aws-cli `base36.py`): the role name
//! (not the ARN, no path) read as a big-endian base-256 integer of its characters, written in
//! base 36 with lowercase digits, no padding; the empty string encodes to `0`.

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A big unsigned integer as big-endian base-256 digits (no leading zero bytes).
fn trim(mut v: Vec<u8>) -> Vec<u8> {
    let zeros = v.iter().take_while(|b| **b == 0).count();
    v.drain(..zeros);
    v
}

/// `n * mul + add` in place (big-endian bytes).
fn mul_add(n: &mut Vec<u8>, mul: u32, add: u32) {
    let mut carry: u64 = u64::from(add);
    for b in n.iter_mut().rev() {
        let x = u64::from(*b) * u64::from(mul) + carry;
        *b = (x & 0xff) as u8;
        carry = x >> 8;
    }
    while carry > 0 {
        n.insert(0, (carry & 0xff) as u8);
        carry >>= 8;
    }
}

/// `n / d` in place, returning the remainder.
fn div_rem(n: &mut [u8], d: u32) -> u32 {
    let mut rem: u32 = 0;
    for b in n.iter_mut() {
        let cur = (rem << 8) | u32::from(*b);
        *b = (cur / d) as u8;
        rem = cur % d;
    }
    rem
}

/// Encode a role name as aws-cli does. Each character counts with its code point (IAM role
/// names are ASCII, where that is one byte).
pub fn encode(name: &str) -> String {
    let mut n: Vec<u8> = Vec::new();
    for c in name.chars() {
        mul_add(&mut n, 256, u32::from(c));
    }
    let mut n = trim(n);
    let mut out: Vec<u8> = Vec::new();
    while !n.is_empty() {
        let r = div_rem(&mut n, 36);
        out.push(ALPHABET.get(r as usize).copied().unwrap_or(b'0'));
        n = trim(n);
    }
    if out.is_empty() {
        return "0".to_owned();
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Decode a base36 suffix back to the role name it encodes: `None` when it is not lowercase
/// base36, or does not decode to printable ASCII (so it cannot be an IAM role name).
pub fn decode(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut n: Vec<u8> = Vec::new();
    for c in s.bytes() {
        let d = ALPHABET.iter().position(|a| *a == c)? as u32;
        mul_add(&mut n, 36, d);
    }
    let n = trim(n);
    if n.is_empty() || !n.iter().all(|b| (0x21..0x7f).contains(b)) {
        return None;
    }
    String::from_utf8(n).ok()
}

/// `true` when `s` could be a base36 suffix (lowercase letters and digits only).
pub fn is_base36(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// domain.md §1.3: the aws-cli unit-test vectors and the ones checked against real clusters.
    const VECTORS: &[(&str, &str)] = &[
        ("", "0"),
        ("abcdefghijkl", "2x6xx5ubcrus4bplmr0"),
        ("+=,.@-_", "3bu5b0xg4tb"),
        ("abcdefghijkl+=,.@-_", "1ll75jdngh5gbk11wbh7h35ji05wtb"),
        (
            "ts-eks-emr-eks-emr-cli",
            "j3uv6jk0kk3sogu231qj91fmo3mvwfl561",
        ),
        (
            "EMRContainers-JobExecutionRole",
            "189nnyj7mn9w2lqiewgg1u0l3jhmo0z69yjkj9u6qhosj8l",
        ),
        (
            "JobExecutionRoleIRSAv2",
            "c7ohmynrs14q04uudoef8n97xdufwajzua",
        ),
    ];

    #[test]
    fn aws_cli_vectors() {
        for (input, want) in VECTORS {
            assert_eq!(encode(input), *want, "{input:?}");
        }
    }

    #[test]
    fn long_vector() {
        let alpha = "abcdefghijklmnopqrstuvwxyz";
        let input = format!("{}{}", alpha.repeat(4), &alpha[..24]);
        assert_eq!(input.len(), 128);
        assert_eq!(
            encode(&input),
            "hihg421ybq8vpwgxd21fae22r9rho7x8qpyskkz6iqadme7ds5fqxpnedq44doj5dlitkm8wswo3c5503yl55jfazzhbbqnnee7r70zw89fs5ojeipi6xeiydas7g7y9w3usdlzrlhxx0q50bxvt27tfu3ruwyx4fuv96rcfpkqxxg93vdclsof5ribhnrcvajmpvc"
        );
    }

    /// The EMR Pod Identity page's value encodes the name *with a trailing newline*: it is a
    /// documentation bug and must not be what we produce for the name itself.
    #[test]
    fn documentation_bug_vector_is_not_the_role_name() {
        let doc_value = "2eum5fah1jc1kwyjc19ikdhdkdegh1n26vbe";
        assert_ne!(encode("JobExecutionRoleIRSAv2"), doc_value);
        assert_eq!(encode("JobExecutionRoleIRSAv2\n"), doc_value);
        // ... and it does not decode to a role name (a newline is not a role-name character).
        assert_eq!(decode(doc_value), None);
    }

    #[test]
    fn decode_round_trips() {
        for (input, enc) in VECTORS.iter().skip(1) {
            assert_eq!(decode(enc).as_deref(), Some(*input));
        }
        for name in ["emr-team-a-exec", "emr-shared-readonly-exec", "a"] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name));
        }
        assert_eq!(
            encode("emr-shared-readonly-exec"),
            "ndkbteyfdethxdyg80tkih94qbini260pqelf"
        );
        assert_eq!(decode("0"), None);
        assert_eq!(decode("ABC"), None);
        assert_eq!(decode(""), None);
    }

    #[test]
    fn non_ascii_counts_code_points() {
        // aws-cli's ord(): 'é' is 233, one base-256 digit; a wider code point carries.
        assert_eq!(decode(&encode("é")), None);
        assert_ne!(encode("€"), encode("\u{20}"));
    }
}
