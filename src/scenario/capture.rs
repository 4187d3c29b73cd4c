//! `[[capture]]` → [`CapturePlan`]s in file order: which commands' output
//! is kept with the results, and when they run.

use std::collections::HashMap;
use std::time::Duration;

use super::compile::Cx;
use super::fault;
use super::plan::{CapturePlan, CaptureWhen};
use super::raw::{Origin, RawCapture, Value};
use super::target::owner;

/// A capture with no `timeout` is killed after this long.
pub(super) const DEFAULT_CAPTURE_TIMEOUT: Duration = Duration::from_secs(30);

const WHEN: &[(&str, CaptureWhen)] = &[
    ("start", CaptureWhen::Start),
    ("end", CaptureWhen::End),
    ("both", CaptureWhen::Both),
];

/// `None` when any capture is wrong (the reasons are in `cx`).
pub(super) fn compile(raws: &[RawCapture], cx: &mut Cx<'_>) -> Option<Vec<CapturePlan>> {
    let mut first_use: HashMap<String, &Origin> = HashMap::new();
    let mut captures = Vec::with_capacity(raws.len());
    for raw in raws {
        let name = cx
            .required(&raw.name, &raw.origin, "name", r#"name = "destinationrules""#)
            .and_then(|item| {
                let text = cx.text(item, r#"a capture name such as "destinationrules""#)?;
                if !file_safe(&text.value) {
                    let message = format!(
                        "{} is not a capture name (letters, digits, '_', '.', '-'; it names the capture's files)",
                        text.quoted()
                    );
                    cx.problem(&item.origin, message);
                    return None;
                }
                if let Some(first) = first_use.get(&text.value) {
                    let message = format!("{:?} is already used by {}", text.value, owner(first));
                    cx.problem(&item.origin, message);
                    return None;
                }
                first_use.insert(text.value.clone(), &raw.origin);
                Some(text.value)
            });
        let command = cx
            .required(
                &raw.argv,
                &raw.origin,
                "argv",
                r#"argv = ["kubectl", "get", "destinationrule", "-A", "-o", "yaml"]"#,
            )
            .and_then(|item| {
                if let Value::Str(_) = item.value {
                    let message = format!(
                        r#"{} is a string: write it as an argv array (a shell line as ["sh", "-c", "..."])"#,
                        item.value
                    );
                    cx.problem(&item.origin, message);
                    return None;
                }
                fault::command(item, false, cx)
            });
        let when = match &raw.when {
            None => Some(CaptureWhen::Both),
            Some(item) => cx.choice(item, "when to capture", WHEN),
        };
        let timeout = match &raw.timeout {
            None => Some(DEFAULT_CAPTURE_TIMEOUT),
            Some(item) => cx.positive_duration(item),
        };
        captures.push((|| {
            Some(CapturePlan {
                name: name?,
                command: command?,
                when: when?,
                timeout: timeout?,
            })
        })());
    }
    captures.into_iter().collect()
}

/// Safe as a file name on its own: no separator, no `..`, not empty.
pub(super) fn file_safe(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scenario::{CaptureWhen, HookCommand, Overrides, parse};

    const TARGET: &str =
        "[[target]]\nname = \"a\"\nurl = \"sim:primary\"\n[load]\nrate = 1\nduration = \"2s\"\n";

    fn problems(text: &str) -> String {
        let text = format!("{TARGET}{text}");
        parse(&text, Path::new("t.toml"), &Overrides::default(), &|_| None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_capture_is_an_argv_run_at_both_ends_by_default() {
        let text = format!(
            "{TARGET}[[capture]]\nname = \"dr\"\nargv = [\"kubectl\", \"get\", \"dr\", \"${{NS}}\"]\n\
             [[capture]]\nname = \"ps\"\nargv = [\"istioctl\", \"proxy-status\"]\nwhen = \"end\"\ntimeout = \"5s\"\n"
        );
        let env = |name: &str| (name == "NS").then(|| "default".to_string());
        let plan = parse(&text, Path::new("t.toml"), &Overrides::default(), &env).unwrap();
        assert_eq!(plan.captures.len(), 2);
        assert_eq!(plan.captures[0].name, "dr");
        assert_eq!(
            plan.captures[0].command,
            HookCommand::Argv(vec![
                "kubectl".into(),
                "get".into(),
                "dr".into(),
                "${NS}".into()
            ])
        );
        assert_eq!(plan.captures[0].when, CaptureWhen::Both);
        assert_eq!(plan.captures[0].timeout, super::DEFAULT_CAPTURE_TIMEOUT);
        assert_eq!(plan.captures[1].when, CaptureWhen::End);
        assert_eq!(plan.captures[1].timeout.as_secs(), 5);
        assert!(CaptureWhen::Both.includes(CaptureWhen::Start));
        assert!(!CaptureWhen::End.includes(CaptureWhen::Start));
    }

    #[test]
    fn bad_captures_are_named_by_line_and_key() {
        let found = problems(
            "[[capture]]\nname = \"../x\"\nargv = \"kubectl get dr\"\nwhen = \"later\"\n\
             [[capture]]\nargv = []\ntimeout = \"0s\"\nshell = true\n",
        );
        for expected in [
            "t.toml:8: capture[0].name \"../x\" is not a capture name",
            "t.toml:9: capture[0].argv \"kubectl get dr\" is a string: write it as an argv array",
            "t.toml:10: capture[0].when \"later\" is not when to capture (expected \"start\" | \"end\" | \"both\")",
            "capture[1].name is required",
            "t.toml:12: capture[1].argv [] is not a command",
            "t.toml:13: capture[1].timeout \"0s\" must be > 0",
            "t.toml:14: capture[1].shell is not a known key",
        ] {
            assert!(found.contains(expected), "{expected:?} not in:\n{found}");
        }
        let found = problems(
            "[[capture]]\nname = \"a\"\nargv = [\"true\"]\n[[capture]]\nname = \"a\"\nargv = [\"true\"]\n",
        );
        assert!(
            found.contains("t.toml:11: capture[1].name \"a\" is already used by capture[0]"),
            "{found}"
        );
    }
}
