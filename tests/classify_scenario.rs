//! The scenario's `[clusters]` table: compiled into `Plan::clusters` in file
//! order, and every problem reported with file, line and key.

use meshdrill::scenario::{ClusterRule, Overrides, Plan, ScenarioError, parse};

const HEAD: &str = r#"[[target]]
name = "p"
url = "sim:primary"

[load]
rate = 1
duration = "1s"
"#;

fn compile(clusters: &str) -> Result<Plan, ScenarioError> {
    let env = |name: &str| (name == "HASH").then(|| "8cf7b9cc5".to_string());
    parse(
        &format!("{HEAD}{clusters}"),
        "demo.toml".as_ref(),
        &Overrides::default(),
        &env,
    )
}

fn problems(clusters: &str) -> Vec<String> {
    compile(clusters)
        .expect_err("should be invalid")
        .problems()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn clusters_compile_in_file_order_with_variables() {
    let plan = compile(
        "\n[clusters]\nprimary = [\"reviews-v1-${HASH}-*\", \"reviews-v2-*-abc*\"]\nsecondary = [\"reviews-*-7d4f*\"]\nlisted-only = []\n",
    )
    .unwrap();
    assert_eq!(
        plan.clusters,
        [
            ClusterRule {
                name: "primary".into(),
                patterns: vec!["reviews-v1-8cf7b9cc5-*".into(), "reviews-v2-*-abc*".into()],
            },
            ClusterRule {
                name: "secondary".into(),
                patterns: vec!["reviews-*-7d4f*".into()],
            },
            ClusterRule {
                name: "listed-only".into(),
                patterns: vec![],
            },
        ]
    );
}

#[test]
fn no_table_means_no_rules() {
    assert!(compile("").unwrap().clusters.is_empty());
}

#[test]
fn every_problem_names_file_line_and_key() {
    assert_eq!(
        problems(
            "\n[clusters]\nprimary = \"reviews-*\"\n\"bad name\" = [\"reviews-*\"]\nwest = [\"Reviews-V1-*\", 5, \"reviews-?\"]\neast = [\"${UNSET}\"]\n"
        ),
        [
            r#"demo.toml:10: clusters.primary "reviews-*" is not a list (expected a list of reviews pod name patterns, e.g. ["reviews-v1-8cf7b9cc5-*"])"#,
            r#"demo.toml:11: clusters."bad name" is not a cluster name (expected letters, digits, '_', '.' or '-', at most 63, as pages show it after "on cluster")"#,
            r#"demo.toml:12: clusters.west "Reviews-V1-*" is not a pod name pattern (expected lowercase letters, digits, '-', '.', and '*' for any run of characters, e.g. "reviews-v2-*-abc*")"#,
            r#"demo.toml:12: clusters.west 5 is not a string (expected a pod name pattern in quotes, e.g. "reviews-v2-*")"#,
            r#"demo.toml:12: clusters.west "reviews-?" is not a pod name pattern (expected lowercase letters, digits, '-', '.', and '*' for any run of characters, e.g. "reviews-v2-*-abc*")"#,
            r#"demo.toml:13: clusters.east "${UNSET}" uses ${UNSET}, which is not set in the environment"#,
        ]
    );
}

#[test]
fn clusters_must_be_a_table() {
    let text = format!("clusters = 5\n{HEAD}");
    let err = parse(&text, "demo.toml".as_ref(), &Overrides::default(), &|_| {
        None
    })
    .unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "demo.toml:1: clusters 5 is not a table (expected a [clusters] table)"
    );
}

#[test]
fn at_most_32_clusters() {
    let table: String = (0..33).map(|i| format!("c{i} = []\n")).collect();
    let found = problems(&format!("\n[clusters]\n{table}"));
    assert_eq!(
        found,
        ["demo.toml:42: clusters.c32 has 33 clusters (at most 32)"]
    );
}
