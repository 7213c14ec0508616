//! What runs on nodes and in images: launch-template user data (decoded), iptables rules
//! (from `iptables-save` or from shell commands in user data), and Dockerfiles.

use serde::{Deserialize, Serialize};

/// Decoded launch-template user data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserData {
    pub parts: Vec<UserDataPart>,
    /// iptables rules the shell parts (and cloud-config `runcmd`/`bootcmd`) install.
    pub iptables: Vec<IptablesRule>,
    /// Problems met while decoding (the user data is kept as far as it could be read).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserDataKind {
    Shell,
    CloudConfig,
    /// `application/node.eks.aws` (nodeadm `NodeConfig`, AL2023).
    NodeConfig,
    /// Bottlerocket settings (TOML).
    Bottlerocket,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDataPart {
    pub kind: UserDataKind,
    pub content_type: String,
    pub text: String,
}

/// One iptables rule, normalised from either `iptables-save` (`-A FORWARD -d ... -j DROP`) or a
/// command (`iptables --insert FORWARD 1 --in-interface eni+ --destination ... --jump DROP`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IptablesRule {
    pub table: String,
    pub chain: String,
    pub in_interface: Option<String>,
    pub out_interface: Option<String>,
    pub destination: Option<String>,
    pub protocol: Option<String>,
    pub jump: Option<String>,
    /// True for `! -d X` style negations anywhere in the rule (such rules never count as a
    /// block).
    pub negated: bool,
    /// 1-based line in the file it came from.
    pub line: u32,
    pub text: String,
}

impl IptablesRule {
    /// Parse the words after `iptables` (or an `iptables-save` `-A` line). `table` is the
    /// current `*table` of an iptables-save file, overridden by `-t`.
    pub fn parse(words: &[String], table: &str, line: u32) -> Option<IptablesRule> {
        let mut r = IptablesRule {
            table: table.to_owned(),
            line,
            text: words.join(" "),
            ..Default::default()
        };
        let mut it = words.iter().map(String::as_str).peekable();
        let mut has_chain_op = false;
        while let Some(w) = it.next() {
            match w {
                "-t" | "--table" => r.table = it.next()?.to_owned(),
                "-A" | "--append" | "-I" | "--insert" => {
                    r.chain = it.next()?.to_owned();
                    has_chain_op = true;
                    // `--insert CHAIN 1`: optional rule number.
                    if let Some(n) = it.peek() {
                        if n.chars().all(|c| c.is_ascii_digit()) {
                            it.next();
                        }
                    }
                }
                "-i" | "--in-interface" => r.in_interface = it.next().map(str::to_owned),
                "-o" | "--out-interface" => r.out_interface = it.next().map(str::to_owned),
                "-d" | "--destination" | "--dst" => r.destination = it.next().map(str::to_owned),
                "-p" | "--protocol" => r.protocol = it.next().map(str::to_owned),
                "-j" | "--jump" => r.jump = it.next().map(str::to_owned),
                "!" => r.negated = true,
                _ => {}
            }
        }
        has_chain_op.then_some(r)
    }

    /// Whether this rule drops (or rejects) traffic to the instance metadata address leaving
    /// through interfaces matching `iface_prefix` (`eni` or `vlan`), in `chain` of `table`.
    pub fn drops_imds(&self, table: &str, chain: &str, iface_prefix: &str, outbound: bool) -> bool {
        let iface = if outbound {
            &self.out_interface
        } else {
            &self.in_interface
        };
        !self.negated
            && self.table == table
            && self.chain == chain
            && matches!(self.jump.as_deref(), Some("DROP") | Some("REJECT"))
            && self
                .destination
                .as_deref()
                .is_some_and(|d| d == "169.254.169.254/32" || d == "169.254.169.254")
            && iface
                .as_deref()
                .is_some_and(|i| i.starts_with(iface_prefix))
    }
}

/// Rules from an `iptables-save` dump.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IptablesSave {
    pub rules: Vec<IptablesRule>,
}

impl IptablesSave {
    pub fn parse(text: &str) -> IptablesSave {
        let mut table = "filter".to_owned();
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let l = line.trim();
            if let Some(t) = l.strip_prefix('*') {
                table = t.trim().to_owned();
            } else if l.starts_with("-A ") || l.starts_with("-I ") {
                let words = crate::aws::emr::shell_words(l);
                if let Some(r) = IptablesRule::parse(&words, &table, line_no) {
                    rules.push(r);
                }
            }
        }
        IptablesSave { rules }
    }
}

/// iptables commands found in a shell script (user data), with `sudo` and line continuations
/// handled. Lines are 1-based within the script.
pub fn iptables_in_script(script: &str) -> Vec<IptablesRule> {
    let mut out = Vec::new();
    let joined = script.replace("\\\r\n", " ").replace("\\\n", " ");
    for (i, line) in joined.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for cmd in line.split([';', '&', '|']) {
            let words = crate::aws::emr::shell_words(cmd.trim());
            let pos = words.iter().position(|w| {
                let base = w.rsplit('/').next().unwrap_or(w);
                base == "iptables" || base == "iptables-legacy" || base == "iptables-nft"
            });
            if let Some(p) = pos {
                if let Some(rest) = words.get(p + 1..) {
                    if let Some(r) = IptablesRule::parse(rest, "filter", line_no) {
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

/// A parsed Dockerfile: instructions with their line numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dockerfile {
    pub instructions: Vec<DockerInstruction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerInstruction {
    /// Upper-cased keyword: `FROM`, `USER`, `ADD`, ...
    pub keyword: String,
    pub args: String,
    pub line: u32,
}

impl Dockerfile {
    pub fn parse(text: &str) -> Dockerfile {
        let mut instructions = Vec::new();
        let mut pending: Option<(u32, String)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let trimmed = raw.trim();
            if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
                continue;
            }
            if pending.is_some() && trimmed.starts_with('#') {
                continue;
            }
            let (start, mut acc) = pending.take().unwrap_or((line_no, String::new()));
            if let Some(cont) = trimmed.strip_suffix('\\') {
                acc.push_str(cont);
                acc.push(' ');
                pending = Some((start, acc));
                continue;
            }
            acc.push_str(trimmed);
            push_instruction(&mut instructions, start, &acc);
        }
        if let Some((start, acc)) = pending {
            push_instruction(&mut instructions, start, &acc);
        }
        Dockerfile { instructions }
    }

    /// The `FROM` of the final stage.
    pub fn final_from(&self) -> Option<&DockerInstruction> {
        self.instructions.iter().rev().find(|i| i.keyword == "FROM")
    }

    /// The last `USER` of the final stage (instructions after the last `FROM`).
    pub fn final_user(&self) -> Option<&DockerInstruction> {
        let start = self
            .instructions
            .iter()
            .rposition(|i| i.keyword == "FROM")
            .unwrap_or(0);
        self.instructions
            .iter()
            .skip(start)
            .rev()
            .find(|i| i.keyword == "USER")
    }
}

fn push_instruction(out: &mut Vec<DockerInstruction>, line: u32, text: &str) {
    let text = text.trim();
    let (kw, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if kw.is_empty() {
        return;
    }
    out.push(DockerInstruction {
        keyword: kw.to_ascii_uppercase(),
        args: args.trim().to_owned(),
        line,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptables_save_and_commands_agree() {
        let save = IptablesSave::parse(
            "# Generated by iptables-save v1.8\n*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -d 169.254.169.254/32 -i eni+ -j DROP\nCOMMIT\n*mangle\n-A POSTROUTING -d 169.254.169.254/32 -o vlan+ -j DROP\n",
        );
        assert_eq!(save.rules.len(), 2);
        assert!(save.rules[0].drops_imds("filter", "FORWARD", "eni", false));
        assert_eq!(save.rules[0].line, 4);
        assert!(save.rules[1].drops_imds("mangle", "POSTROUTING", "vlan", true));

        let cmds = iptables_in_script(
            "#!/bin/bash\nyum install -y iptables-services\nsudo iptables --insert FORWARD 1 --in-interface eni+ --destination 169.254.169.254/32 --jump DROP\niptables -t mangle -A POSTROUTING -o vlan+ \\\n --destination 169.254.169.254/32 --jump DROP\n",
        );
        assert_eq!(cmds.len(), 2);
        assert!(cmds[0].drops_imds("filter", "FORWARD", "eni", false));
        assert!(cmds[1].drops_imds("mangle", "POSTROUTING", "vlan", true));
    }

    #[test]
    fn negated_rules_do_not_block() {
        let save =
            IptablesSave::parse("*filter\n-A FORWARD ! -d 169.254.169.254/32 -i eni+ -j DROP\n");
        assert!(!save.rules[0].drops_imds("filter", "FORWARD", "eni", false));
    }

    #[test]
    fn dockerfile_final_stage() {
        let d = Dockerfile::parse(
            "FROM golang AS build\nUSER nobody\n# c\nFROM 895885662937.dkr.ecr.us-west-2.amazonaws.com/spark/emr-7.13.0:latest\nUSER root\nRUN yum install -y \\\n   jq\n",
        );
        assert_eq!(d.final_from().unwrap().line, 4);
        assert_eq!(d.final_user().unwrap().args, "root");
        let run = d.instructions.iter().find(|i| i.keyword == "RUN").unwrap();
        assert_eq!(run.line, 6);
        assert!(run.args.contains("jq"));
    }
}
