//! Launch-template user data: base64 (optionally gzip), plain or MIME multi-part, with shell,
//! cloud-config, nodeadm and Bottlerocket parts. The iptables rules the scripts install are
//! extracted so rules can tell whether pods are kept away from IMDS.

use base64::Engine;
use emrguard_model::node::{iptables_in_script, UserData, UserDataKind, UserDataPart};
use std::io::Read;

const MAX_USER_DATA: u64 = 16 << 20;
const MAX_MIME_DEPTH: usize = 4;

/// Decode user data as printed by `describe-launch-template-versions` (base64). Never fails:
/// what cannot be decoded is reported in `warnings`.
pub fn decode_user_data(b64: &str) -> UserData {
    let mut ud = UserData::default();
    let cleaned: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
        Ok(b) => b,
        Err(e) => {
            ud.warnings
                .push(format!("user data is not valid base64: {e}"));
            return ud;
        }
    };
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        match flate2::read::GzDecoder::new(bytes.as_slice())
            .take(MAX_USER_DATA)
            .read_to_end(&mut out)
        {
            Ok(_) => out,
            Err(e) => {
                ud.warnings.push(format!("user data gzip is corrupt: {e}"));
                return ud;
            }
        }
    } else {
        bytes
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    parse_into(ud, &text)
}

/// User data written as plain text (Karpenter `EC2NodeClass.spec.userData`): shell, MIME
/// multi-part, cloud-config, nodeadm or Bottlerocket TOML.
pub fn parse_user_data_text(text: &str) -> UserData {
    let mut ud = UserData::default();
    if text.len() as u64 > MAX_USER_DATA {
        ud.warnings.push(format!(
            "user data is larger than {} MiB and was not read",
            MAX_USER_DATA >> 20
        ));
        return ud;
    }
    parse_into(ud, text)
}

fn parse_into(mut ud: UserData, text: &str) -> UserData {
    add_content(&mut ud, None, text, 0);
    for p in &ud.parts {
        match p.kind {
            UserDataKind::Shell => ud.iptables.extend(iptables_in_script(&p.text)),
            UserDataKind::CloudConfig => ud
                .iptables
                .extend(iptables_in_script(&cloud_config_commands(&p.text))),
            _ => {}
        }
    }
    ud
}

fn kind_of(content_type: Option<&str>, text: &str) -> (UserDataKind, String) {
    let t = text.trim_start();
    let ct = content_type.map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase());
    let kind = match ct.as_deref() {
        Some("text/x-shellscript") => UserDataKind::Shell,
        Some("text/cloud-config") | Some("text/cloud-config-archive") => UserDataKind::CloudConfig,
        Some("application/node.eks.aws") => UserDataKind::NodeConfig,
        Some("application/toml") => UserDataKind::Bottlerocket,
        Some(other) if other != "text/plain" => UserDataKind::Other(other.to_owned()),
        _ if t.starts_with("#!") => UserDataKind::Shell,
        _ if t.starts_with("#cloud-config") => UserDataKind::CloudConfig,
        _ if t.contains("kind: NodeConfig") => UserDataKind::NodeConfig,
        _ if t.starts_with("[settings") => UserDataKind::Bottlerocket,
        _ => UserDataKind::Other("text/plain".to_owned()),
    };
    (kind, ct.unwrap_or_else(|| "text/plain".to_owned()))
}

fn header_value<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    // Headers may be folded over several lines; unfold only what we need.
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Split `text` into MIME headers and body when it starts with headers.
fn split_headers(text: &str) -> Option<(&str, &str)> {
    let first = text.lines().next()?;
    let looks_like_header = first.split_once(':').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !looks_like_header {
        return None;
    }
    if let Some(p) = text.find("\r\n\r\n") {
        return Some((text.get(..p)?, text.get(p + 4..)?));
    }
    let p = text.find("\n\n")?;
    Some((text.get(..p)?, text.get(p + 2..)?))
}

fn add_content(ud: &mut UserData, content_type: Option<&str>, text: &str, depth: usize) {
    if depth > MAX_MIME_DEPTH {
        ud.warnings
            .push("MIME nesting too deep; inner parts ignored".to_owned());
        return;
    }
    if let Some((headers, body)) = split_headers(text) {
        if let Some(ct) = header_value(headers, "Content-Type") {
            if ct.to_ascii_lowercase().starts_with("multipart/") {
                match boundary_of(ct) {
                    Some(b) => {
                        add_multipart(ud, &b, body, depth);
                        return;
                    }
                    None => ud
                        .warnings
                        .push("multipart user data without a boundary".to_owned()),
                }
            }
            let body =
                decode_transfer(ud, header_value(headers, "Content-Transfer-Encoding"), body);
            let (kind, ct) = kind_of(Some(ct), &body);
            ud.parts.push(UserDataPart {
                kind,
                content_type: ct,
                text: body,
            });
            return;
        }
    }
    let (kind, ct) = kind_of(content_type, text);
    ud.parts.push(UserDataPart {
        kind,
        content_type: ct,
        text: text.to_owned(),
    });
}

fn decode_transfer(ud: &mut UserData, encoding: Option<&str>, body: &str) -> String {
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => {
            let cleaned: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    ud.warnings
                        .push(format!("MIME part is not valid base64: {e}"));
                    String::new()
                }
            }
        }
        _ => body.to_owned(),
    }
}

fn add_multipart(ud: &mut UserData, boundary: &str, body: &str, depth: usize) {
    let delim = format!("--{boundary}");
    let mut found = false;
    for (i, chunk) in body.split(delim.as_str()).enumerate() {
        if i == 0 {
            continue; // preamble
        }
        if chunk.starts_with("--") {
            break; // closing delimiter
        }
        found = true;
        let part = chunk.trim_start_matches(['\r', '\n']);
        match split_headers(part) {
            Some(_) => add_content(ud, None, part, depth + 1),
            None => {
                let (kind, ct) = kind_of(None, part);
                ud.parts.push(UserDataPart {
                    kind,
                    content_type: ct,
                    text: part.to_owned(),
                });
            }
        }
    }
    if !found {
        ud.warnings.push(format!(
            "multipart user data has no part delimited by `{delim}`"
        ));
    }
}

/// The commands of a cloud-config's `runcmd`/`bootcmd`, one per line, as a shell script would
/// have them (list items unquoted; `[a, b]` word lists joined).
fn cloud_config_commands(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let l = line.trim_start();
        let Some(item) = l.strip_prefix("- ") else {
            out.push('\n');
            continue;
        };
        let item = item.trim();
        let cmd = if item.starts_with('[') && item.ends_with(']') {
            item.trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|w| w.trim().trim_matches(['"', '\'']))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            item.trim_matches(['"', '\'']).to_owned()
        };
        out.push_str(&cmd);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn plain_shell_script() {
        let ud = decode_user_data(&b64("#!/bin/bash\niptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP\n"));
        assert_eq!(ud.parts.len(), 1);
        assert_eq!(ud.parts[0].kind, UserDataKind::Shell);
        assert!(ud.iptables[0].drops_imds("filter", "FORWARD", "eni", false));
    }

    #[test]
    fn mime_multipart_with_shell_and_nodeadm() {
        let mime = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n--BOUNDARY\nContent-Type: application/node.eks.aws\n\n---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\n\n--BOUNDARY\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\nsudo iptables -t mangle -A POSTROUTING -o vlan+ --destination 169.254.169.254/32 --jump DROP\n--BOUNDARY--\n";
        let ud = decode_user_data(&b64(mime));
        assert_eq!(ud.parts.len(), 2, "{ud:?}");
        assert_eq!(ud.parts[0].kind, UserDataKind::NodeConfig);
        assert_eq!(ud.parts[1].kind, UserDataKind::Shell);
        assert!(ud.iptables[0].drops_imds("mangle", "POSTROUTING", "vlan", true));
        assert!(ud.warnings.is_empty());
    }

    #[test]
    fn cloud_config_runcmd() {
        let ud = decode_user_data(&b64("#cloud-config\nruncmd:\n  - [iptables, -I, FORWARD, '1', -i, eni+, -d, 169.254.169.254/32, -j, DROP]\n  - \"echo hi\"\n"));
        assert_eq!(ud.parts[0].kind, UserDataKind::CloudConfig);
        assert!(ud.iptables[0].drops_imds("filter", "FORWARD", "eni", false));
    }

    #[test]
    fn garbage_is_a_warning_not_a_panic() {
        assert!(!decode_user_data("%%%not base64").warnings.is_empty());
        let ud = decode_user_data(&b64(
            "Content-Type: multipart/mixed; boundary=x\n\nno parts here",
        ));
        assert!(!ud.warnings.is_empty());
    }
}
