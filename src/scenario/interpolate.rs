//! `${VAR}` in scenario strings, so one file serves every drill: ingress IPs
//! and host names come from the environment (typically a kubectl lookup
//! exported just before the run) instead of being edited into the file.

use std::fmt;

/// Why a string could not be expanded; reads on from the quoted string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Unexpanded {
    Unset(String),
    /// Set but empty: almost always a lookup that printed nothing, and an
    /// empty IP or host would otherwise fail later and far less clearly.
    Empty(String),
    BadName(String),
    Unterminated,
}

impl fmt::Display for Unexpanded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unexpanded::Unset(name) => {
                write!(f, "uses ${{{name}}}, which is not set in the environment")
            }
            Unexpanded::Empty(name) => write!(
                f,
                "uses ${{{name}}}, which is empty — did the kubectl lookup fail?"
            ),
            Unexpanded::BadName(name) => write!(
                f,
                "uses ${{{name}}}, which is not a variable name (expected letters, digits and _, not starting with a digit)"
            ),
            Unexpanded::Unterminated => write!(
                f,
                "has an unterminated \"${{\" (expected ${{NAME}}; write $${{ for a literal ${{)"
            ),
        }
    }
}

/// Expands every `${NAME}` from `env`; `$${` is a literal `${` and any other
/// `$` stays as it is. All problems of the string are returned, not the first.
pub(super) fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<Unexpanded>> {
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar..];
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("${") {
            let Some(close) = after.find('}') else {
                problems.push(Unexpanded::Unterminated);
                rest = "";
                break;
            };
            let name = &after[..close];
            rest = &after[close + 1..];
            if !is_var_name(name) {
                problems.push(Unexpanded::BadName(name.to_string()));
                continue;
            }
            match env(name) {
                None => problems.push(Unexpanded::Unset(name.to_string())),
                Some(value) if value.is_empty() => {
                    problems.push(Unexpanded::Empty(name.to_string()))
                }
                Some(value) => out.push_str(&value),
            }
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "IP" => Some("10.0.0.7".into()),
            "PORT" => Some("8080".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn expand(text: &str) -> Result<String, Vec<Unexpanded>> {
        interpolate(text, &env)
    }

    #[test]
    fn expands_every_variable() {
        assert_eq!(expand("${IP}:${PORT}").unwrap(), "10.0.0.7:8080");
        assert_eq!(expand("http://${IP}/x").unwrap(), "http://10.0.0.7/x");
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        assert_eq!(expand("plain $ text $5 $").unwrap(), "plain $ text $5 $");
        assert_eq!(expand("").unwrap(), "");
    }

    #[test]
    fn double_dollar_escapes_a_literal_placeholder() {
        assert_eq!(expand("$${IP} is ${IP}").unwrap(), "${IP} is 10.0.0.7");
        assert_eq!(expand("$$x").unwrap(), "$$x");
    }

    #[test]
    fn unset_and_empty_are_both_reported() {
        assert_eq!(
            expand("${NOPE}:${EMPTY}").unwrap_err(),
            [
                Unexpanded::Unset("NOPE".into()),
                Unexpanded::Empty("EMPTY".into())
            ]
        );
    }

    #[test]
    fn unterminated_and_bad_names_are_problems() {
        assert_eq!(expand("${IP").unwrap_err(), [Unexpanded::Unterminated]);
        assert_eq!(
            expand("${1X}${A B}${}").unwrap_err(),
            [
                Unexpanded::BadName("1X".into()),
                Unexpanded::BadName("A B".into()),
                Unexpanded::BadName(String::new())
            ]
        );
    }

    #[test]
    fn messages_name_the_variable() {
        assert_eq!(
            Unexpanded::Empty("PRIMARY_INGRESS_IP".into()).to_string(),
            "uses ${PRIMARY_INGRESS_IP}, which is empty — did the kubectl lookup fail?"
        );
        assert_eq!(
            Unexpanded::Unset("X".into()).to_string(),
            "uses ${X}, which is not set in the environment"
        );
    }
}
