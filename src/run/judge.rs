//! Judging the run: its assessment (outages, SLO verdict) from the files
//! just written, read back exactly as `meshdrill report` will read them,
//! and summary.json written once with the verdict in it.

use std::path::Path;

use super::RunError;
use super::finish::write_summary;
use crate::assess::{Assessment, assess};
use crate::results::Results;
use crate::results::summary::Summary;
use crate::scenario::Plan;

/// A folder that cannot be read back still gets the unjudged summary (its
/// totals are worth keeping), and the error.
pub(super) fn judge(
    out_dir: &Path,
    plan: &Plan,
    summary: Summary,
) -> Result<(Results, Assessment), RunError> {
    let mut results = match Results::beside(out_dir, summary.clone()) {
        Ok(results) => results,
        Err(e) => {
            write_summary(out_dir, &summary)?;
            return Err(e.into());
        }
    };
    let assessment = assess(&results, &plan.recovery, &plan.slo);
    results.summary.outages = assessment.outages.clone();
    results.summary.verdict = Some(assessment.verdict.clone());
    // Written once, whole or not at all.
    write_summary(out_dir, &results.summary)?;
    Ok((results, assessment))
}
