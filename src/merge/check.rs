//! Whether folders are shards of one run: each sharded, the same N, every
//! index `0..N` exactly once, the same scenario (file hash, and the plan's
//! load, targets, faults, rule and criteria) and the same `--start-at`
//! instant. Anything else is refused, naming the folders and the difference.

use crate::results::Results;

/// The shards ordered by index, or why they are not one run's.
pub fn shards_of(folders: Vec<Results>) -> Result<Vec<Results>, String> {
    let name = |r: &Results| r.dir.display().to_string();
    let mut count = None;
    for r in &folders {
        let Some(shard) = r.summary.shard else {
            return Err(format!(
                "{} is not a shard: its run had no --shard I/N (only shards of one run are merged)",
                name(r)
            ));
        };
        match count {
            None => count = Some((shard.count, name(r))),
            Some((n, ref first)) if n != shard.count => {
                return Err(format!(
                    "{first} is a shard of {n}, {} a shard of {}: only the shards of one run are merged",
                    name(r),
                    shard.count
                ));
            }
            Some(_) => {}
        }
    }
    let Some((count, _)) = count else {
        return Err("no folders to merge".into());
    };
    let mut by_index: Vec<Option<Results>> = (0..count).map(|_| None).collect();
    for r in folders {
        let i = r.summary.shard.expect("checked above").index as usize;
        if let Some(other) = &by_index[i] {
            return Err(format!(
                "{} and {} are both shard {i} of {count}: give each shard's folder once",
                name(other),
                name(&r)
            ));
        }
        by_index[i] = Some(r);
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| by_index[i as usize].is_none())
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard(s) {} missing: a merge of {count} shards needs every one of them",
            missing.join(", ")
        ));
    }
    let shards: Vec<Results> = by_index
        .into_iter()
        .map(|r| r.expect("all there"))
        .collect();
    let first = &shards[0];
    for other in &shards[1..] {
        if let Some(difference) = scenario_difference(first, other) {
            return Err(format!(
                "{} and {} are not shards of one scenario: {difference}",
                name(first),
                name(other)
            ));
        }
        if at_of(first) != at_of(other) {
            let show = |r: &Results| match at_of(r) {
                Some(ms) => format!("--start-at {ms} (Unix ms)"),
                None => "no --start-at".to_string(),
            };
            return Err(format!(
                "{} started at {}, {} at {}: shards are merged only when they share one --start-at instant",
                name(first),
                show(first),
                name(other),
                show(other)
            ));
        }
    }
    if at_of(first).is_none() {
        return Err(format!(
            "{}: the shards ran without --start-at, so their second 0s are not one instant and their seconds cannot be added up",
            name(first)
        ));
    }
    Ok(shards)
}

fn at_of(r: &Results) -> Option<u64> {
    r.summary.start.as_ref().map(|s| s.at_unix_ms)
}

/// What differs between two shards' scenarios, if anything: the file's
/// hash where both plans have it, then what the plans compiled.
fn scenario_difference(a: &Results, b: &Results) -> Option<String> {
    let (Some(pa), Some(pb)) = (&a.plan, &b.plan) else {
        return Some("a folder has no plan.json to compare (written by an older meshdrill)".into());
    };
    if let (Some(ha), Some(hb)) = (&pa.scenario_hash, &pb.scenario_hash)
        && ha != hb
    {
        return Some(format!(
            "the scenario files differ ({} is {ha}, {} is {hb})",
            pa.scenario.file, pb.scenario.file
        ));
    }
    if pa.scenario.name != pb.scenario.name {
        return Some(format!(
            "scenario {:?} vs {:?}",
            pa.scenario.name, pb.scenario.name
        ));
    }
    let mut la = pa.load.clone();
    let mut lb = pb.load.clone();
    // The same scenario may sit at another path on each machine.
    la.file.clear();
    lb.file.clear();
    if la != lb {
        return Some(format!(
            "the load differs ({} vs {})",
            serde_json::to_string(&pa.load).unwrap_or_default(),
            serde_json::to_string(&pb.load).unwrap_or_default()
        ));
    }
    let targets = |p: &crate::results::PlanRecord| -> Vec<String> {
        p.targets.iter().map(|t| t.name.clone()).collect()
    };
    if targets(pa) != targets(pb) {
        return Some(format!("targets {:?} vs {:?}", targets(pa), targets(pb)));
    }
    if pa.faults != pb.faults {
        return Some("the faults planned differ".into());
    }
    if pa.recovery != pb.recovery || pa.slo != pb.slo {
        return Some("the [recovery] rule or the [slo] criteria differ".into());
    }
    None
}
