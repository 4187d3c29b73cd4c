//! The one worker loop. A lane owns a share of one target's traffic (a slice
//! of the open model's arrival slots, or some of the closed model's users),
//! keeps every request it started in flight concurrently, records outcomes
//! into its own shard, and on each tick hands finished seconds to the
//! recorder together with a watermark: no outcome of this lane will ever
//! again belong to a second before it.
//!
//! When the run is interrupted, every request still in flight is recorded
//! as `abandoned` in the second of its intended time (see
//! [`abandoned_at_stop`]); the watermark already holds those seconds open,
//! so they are written once, with them.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::classify::{Classifier, ClassifyConfig, ClusterId, Hay, Page, PodId};
use crate::engine::alarm::Alarm;
use crate::engine::buffers::{BodyBuf, BodyPool};
use crate::engine::client::Reply;
use crate::engine::clock::RunClock;
use crate::engine::route::{Route, Routed};
use crate::engine::schedule::Schedule;
use crate::outcome::{AddressId, Kind, Outcome, TargetId};
use crate::record::{
    AddressRegistry, ClusterRegistry, LATE_SEND_US, LaneAddresses, LaneReport, LaneTallies,
    LocationRegistry, LocationSlots, Shard, second_of,
};

/// How often finished seconds are handed to the recorder.
const TICK: Duration = Duration::from_millis(250);
/// Closed model: a user whose request failed on this machine (`local_error`:
/// out of descriptors or ports) pauses at least this long before the next,
/// so a machine limit never turns into a hot loop of failures.
const LOCAL_ERROR_PAUSE: Duration = Duration::from_millis(100);

pub struct LaneSpec {
    /// Index among all lanes of the run (the recorder tracks each one).
    pub lane: usize,
    pub target: TargetId,
    pub schedule: Schedule,
    /// No request is intended at or after this offset from the run start.
    pub end: Duration,
    /// More in flight than this and the lane stops sending; a slot that
    /// waited for room is counted as a cap wait (and late when it is).
    pub max_in_flight: usize,
    /// Open model: a slot not sent within this of its intended time is
    /// never sent (counted `not_sent`): the user it stands for has given up
    /// by then, and a backlog must not grow without bound. The run's
    /// `timeout`.
    pub send_deadline: Duration,
    /// Open model: the lane's own alarm, which wakes it at each slot's
    /// intended instant (every slot already due is taken without waiting).
    pub alarm: Option<Alarm>,
    /// Cluster names and pod patterns (this lane builds its own classifier).
    pub classify: ClassifyConfig,
    /// The run's cluster slots, asked once per name this lane meets.
    pub clusters: Arc<ClusterRegistry>,
    /// The run's address slots, asked once per address this lane meets.
    pub addresses: Arc<AddressRegistry>,
    /// The run's redirect Location slots, asked once per Location.
    pub locations: Arc<LocationRegistry>,
    /// Seconds before this one are warmup: not in the pod tallies.
    pub warmup_seconds: u32,
}

#[derive(Clone, Copy)]
enum Start {
    /// Intended at this instant (an open-model slot, or a user sending now).
    At(Instant),
    /// A closed-model user thinking first, until this instant; intended
    /// when the think ends.
    AfterThink(Instant),
}

impl Start {
    /// The earliest instant the request can be intended at.
    fn due(self) -> Instant {
        match self {
            Start::At(t) | Start::AfterThink(t) => t,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request in the lane's in-flight set, beside the instant it is due,
    /// so that an interrupt can place what is still out in the second it
    /// was sent in, and (closed model) the lane's user it belongs to. The
    /// `Instant` is copied from the `Start` the lane already has: nothing
    /// is computed or allocated for it per request.
    struct InFlight<F> {
        due: Instant,
        user: u32,
        #[pin]
        request: F,
    }
}

impl<F: Future> Future for InFlight<F> {
    type Output = (u32, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let user = *this.user;
        this.request.poll(cx).map(|done| (user, done))
    }
}

/// A finished exchange, classified by the lane (which owns the classifier).
struct Done {
    exchange: Option<Exchanged>,
    body: BodyBuf,
    floor: u32,
}

struct Exchanged {
    intended: Instant,
    sent: Instant,
    done: Instant,
    reply: Reply,
    /// The address that answered, or was being dialed ([`Routed::peer`]).
    peer: Option<std::net::SocketAddr>,
    /// The failover member that gave the reply (0 for a plain target).
    member: u8,
}

pub async fn run_lane(
    spec: LaneSpec,
    route: Arc<Route>,
    clock: RunClock,
    reports: UnboundedSender<LaneReport>,
    stop: CancellationToken,
) {
    let client = &*route;
    let failover = client.is_failover();
    let end_at = clock.at(spec.end);
    // One classifier per lane: its pod table is lane-local, so no lock.
    let mut classifier = Classifier::new(&spec.classify);
    let mut tallies = Tallies::default();
    let mut addresses = LaneAddresses::default();
    let mut inflight = FuturesUnordered::new();
    let mut floors = FloorCounts::default();
    let mut shard = Shard::default();
    // Body buffers drawn from the run's budget (`load.max_buffered`).
    let mut pool = BodyPool::new(client.body_budget());
    let mut reported_before = 0u32;

    let mut tick = tokio::time::interval_at(clock.start + TICK, TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);

    // Open model: the next slot this lane sends, and when
    // it is intended (which bounds the lane's watermark).
    let (mut slot, stride, profile) = match &spec.schedule {
        Schedule::Open {
            first,
            stride,
            profile,
        } => (*first, *stride, profile.clone()),
        Schedule::Closed { profile, .. } => (0, 0, profile.clone()),
    };
    let slot_at = |i: u64| {
        let offset = profile.slot_offset(i);
        (offset < spec.end).then(|| clock.at(offset))
    };
    let mut next_at = match spec.schedule {
        Schedule::Open { .. } => slot_at(slot),
        Schedule::Closed { .. } => None,
    };
    let (users, think, first_user, user_stride) = match spec.schedule {
        Schedule::Closed {
            users,
            think,
            first,
            stride,
            ..
        } => (users, think, first, stride),
        Schedule::Open { .. } => (0, Duration::ZERO, 0, 0),
    };
    // Closed model: when the lane's user `j` (the target's user
    // `first_user + j * user_stride`) next sends, if its response came at
    // `now` and it pauses `pause`: at once, after the pause, or when the
    // profile next plans it (a ramp reaches it again); `None` when never
    // before the end of traffic (a ramp down stopped it for good).
    let user_start = |j: u32, now: Instant, pause: Duration| -> Option<Start> {
        let ready = now + pause;
        let ready_ns = clock_ns(clock, ready);
        let k = first_user + j * user_stride;
        let at_ns = profile.user_runs_from(k, ready_ns)?;
        let at = clock.at(Duration::from_nanos(at_ns));
        if at >= end_at {
            None
        } else if at_ns > ready_ns {
            Some(Start::AfterThink(at))
        } else if pause.is_zero() {
            Some(Start::At(now))
        } else {
            Some(Start::AfterThink(ready))
        }
    };
    // Closed model: per user, the last second it was counted as running in,
    // so each second counts each user once (`active_users`).
    let mut counted_in: Vec<u32> = vec![u32::MAX; users as usize];
    let mut alarm = spec.alarm;
    // The last instant the lane was at its in-flight cap with a slot due:
    // a slot intended before it waited for room.
    let mut cap_full_at: Option<Instant> = None;
    // Open model: a slot that fell due while the lane was at its
    // cap. It goes out as soon as there is room, or is dropped (not sent)
    // at its deadline; either way the lane takes the next slot right
    // after, so stale slots never pile up behind a full lane and the
    // watermark keeps moving.
    let mut waiting: Option<u64> = None;
    let waiting_deadline = tokio::time::sleep_until(end_at);
    tokio::pin!(waiting_deadline);
    // A slot may go out up to one timeout after its intended time, and
    // never later than the end of traffic plus the lag that is not yet
    // late: a slot intended just before the end and sent a few ms after it
    // is on time by the run's own definition.
    let last_send = end_at + Duration::from_micros(LATE_SEND_US);
    let deadline_of = |at: Instant| (at + spec.send_deadline).min(last_send);
    let end_of_sends = tokio::time::sleep_until(last_send);
    tokio::pin!(end_of_sends);

    // A macro, not a closure: the loop below also needs `inflight` and `floors`.
    macro_rules! push {
        ($start:expr, $floor:expr) => {
            push!($start, $floor, 0)
        };
        ($start:expr, $floor:expr, $user:expr) => {{
            let (start, floor, user): (Start, u32, u32) = ($start, $floor, $user);
            floors.add(floor);
            let body = pool.take();
            inflight.push(InFlight {
                due: start.due(),
                user,
                request: request(client, start, end_at, floor, body),
            });
        }};
    }
    // A closed-model user's next request: counted as running in the second
    // it is due in, and held open from that second (a user the profile
    // starts later does not hold the lane's earlier seconds back).
    macro_rules! push_user {
        ($j:expr, $start:expr) => {{
            let (j, start): (u32, Start) = ($j, $start);
            let second = second_of(clock.us(start.due()));
            if counted_in[j as usize] != second {
                counted_in[j as usize] = second;
                shard.user_active(second);
            }
            let floor = match start {
                Start::At(_) => second_of(clock.us(Instant::now())),
                Start::AfterThink(_) => second,
            };
            push!(start, floor.min(second), j);
        }};
    }

    if users > 0 {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep_until(clock.start) => {
                let now = Instant::now();
                for j in 0..users {
                    let first = user_start(j, clock.start, Duration::ZERO);
                    match first {
                        Some(Start::At(_)) => push_user!(j, Start::At(now)),
                        Some(start) => push_user!(j, start),
                        None => {}
                    }
                }
            }
        }
    }

    loop {
        if stop.is_cancelled() {
            break;
        }
        let closed_starting = users > 0 && Instant::now() < end_at;
        if next_at.is_none() && inflight.is_empty() && !closed_starting {
            break;
        }
        let mut at_cap = inflight.len() >= spec.max_in_flight;
        if let Some(w) = waiting {
            let at = clock.at(profile.slot_offset(w));
            let second = second_of(clock.us(at));
            let dealt_with = if Instant::now() >= deadline_of(at) {
                shard.not_sent(second, 1);
                true
            } else if !at_cap {
                shard.cap_wait(second);
                push!(Start::At(at), second);
                at_cap = inflight.len() >= spec.max_in_flight;
                true
            } else {
                false
            };
            if dealt_with {
                waiting = None;
                slot = w + stride;
                next_at = slot_at(slot);
            }
        }
        if next_at.is_some() && at_cap {
            cap_full_at = Some(Instant::now());
        }
        let can_take = next_at.is_some() && waiting.is_none();
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            // Nothing is sent after the end of traffic: every slot still
            // unsent is counted, never silently dropped.
            _ = &mut end_of_sends, if next_at.is_some() => {
                let mut s = slot;
                while profile.slot_offset(s) < spec.end {
                    shard.not_sent(second_of(profile.slot_offset(s).as_micros() as u64), 1);
                    s += stride;
                }
                next_at = None;
                waiting = None;
            }
            due = next_slot(&mut alarm, next_at, slot), if can_take => {
                let at = clock.at(profile.slot_offset(due));
                let second = second_of(clock.us(at));
                if Instant::now() >= deadline_of(at) {
                    shard.not_sent(second, 1);
                } else if at_cap {
                    waiting = Some(due);
                    waiting_deadline.as_mut().reset(deadline_of(at));
                } else {
                    if cap_full_at.is_some_and(|full| full >= at) {
                        shard.cap_wait(second);
                    }
                    push!(Start::At(at), second);
                }
                if waiting.is_none() {
                    slot = due + stride;
                    next_at = slot_at(slot);
                }
            }
            // The waiting slot's deadline: dropped at the top of the loop.
            _ = &mut waiting_deadline, if waiting.is_some() => {}
            Some((user, done)) = inflight.next(), if !inflight.is_empty() => {
                if next_at.is_some() && inflight.len() + 1 >= spec.max_in_flight {
                    cap_full_at = Some(Instant::now()); // full until this reply
                }
                floors.remove(done.floor);
                let mut pause = think;
                if let Some(exchanged) = done.exchange {
                    let address = addresses.slot(exchanged.peer, &spec.addresses);
                    let outcome = finish(&exchanged, &done.body.hay(), &mut classifier, clock, spec.target, address);
                    if failover {
                        tallies.member(exchanged.member, &outcome, spec.warmup_seconds);
                    }
                    tallies.redirects(&exchanged.reply, &outcome, &spec.locations, spec.warmup_seconds);
                    let outcome = tallies.count(outcome, &classifier, &spec.clusters, spec.warmup_seconds);
                    if outcome.kind == Kind::LocalError {
                        pause = pause.max(LOCAL_ERROR_PAUSE);
                    }
                    shard.record(&outcome);
                }
                pool.give(done.body, inflight.len());
                if users > 0 && let Some(start) = user_start(user, Instant::now(), pause) {
                    push_user!(user, start);
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let scheduled = match spec.schedule {
                    Schedule::Open { .. } => next_at.map(|t| second_of(clock.us(t))),
                    Schedule::Closed { .. } => (now < end_at).then(|| second_of(clock.us(now))),
                };
                let before = match (scheduled, floors.min()) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) | (None, Some(a)) => a,
                    (None, None) => second_of(clock.us(now)),
                };
                if before > reported_before {
                    reported_before = before;
                    let seconds = shard.take_before(before);
                    let _ = reports.send(LaneReport {
                        lane: spec.lane,
                        target: spec.target,
                        seconds,
                        complete_before: before,
                        tallies: None,
                    });
                }
            }
        }
    }
    if stop.is_cancelled() {
        let dues = Pin::new(&inflight).iter_pin_ref().map(|f| f.due);
        for outcome in abandoned_at_stop(dues, Instant::now(), end_at, clock, spec.target) {
            shard.record_abandoned(&outcome);
        }
    }
    drop(inflight);
    let _ = reports.send(LaneReport {
        lane: spec.lane,
        target: spec.target,
        seconds: shard.take_before(u32::MAX),
        complete_before: u32::MAX,
        tallies: Some(tallies.named(&classifier)),
    });
}

/// Nanoseconds of `at` on the run clock (0 before its zero).
fn clock_ns(clock: RunClock, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(clock.start).as_nanos()).unwrap_or(u64::MAX)
}

/// One request of a lane outside its loop, by the same steps the loop
/// takes for each: a pooled body buffer, [`request`], the answering
/// address's slot, [`finish`] (classification), the shard, the buffer back
/// to the pool. Public so `tests/lane_alloc.rs` can hold exactly this path
/// to allocating nothing per request.
#[allow(clippy::too_many_arguments)]
pub async fn request_and_record(
    route: &Route,
    pool: &mut BodyPool,
    classifier: &mut Classifier,
    shard: &mut Shard,
    addresses: &mut LaneAddresses,
    registry: &AddressRegistry,
    clock: RunClock,
    target: TargetId,
) -> Outcome {
    let now = Instant::now();
    let end_at = now + Duration::from_secs(3600);
    let done = request(route, Start::At(now), end_at, 0, pool.take()).await;
    let exchanged = done.exchange.as_ref().expect("intended before the end");
    let address = addresses.slot(exchanged.peer, registry);
    let outcome = finish(
        exchanged,
        &done.body.hay(),
        classifier,
        clock,
        target,
        address,
    );
    shard.record(&outcome);
    pool.give(done.body, 0);
    outcome
}

/// `slot` at its intended instant `at` (at once when that has passed).
/// Only polled with a slot to take, so `at` is set; an open-model lane
/// always has its alarm.
async fn next_slot(alarm: &mut Option<Alarm>, at: Option<Instant>, slot: u64) -> u64 {
    if let (Some(alarm), Some(at)) = (alarm.as_mut(), at) {
        alarm.until(at).await;
    }
    slot
}

async fn request(
    client: &Route,
    start: Start,
    end_at: Instant,
    floor: u32,
    mut body: BodyBuf,
) -> Done {
    let intended = match start {
        Start::At(t) => t,
        Start::AfterThink(until) => {
            tokio::time::sleep_until(until).await;
            Instant::now()
        }
    };
    if intended >= end_at {
        return Done {
            exchange: None,
            body,
            floor,
        };
    }
    let sent = Instant::now().max(intended);
    let Routed {
        reply,
        peer,
        member,
    } = client.exchange(&mut body, sent).await;
    let done = Instant::now();
    Done {
        exchange: Some(Exchanged {
            intended,
            sent,
            done,
            reply,
            peer,
            member,
        }),
        body,
        floor,
    }
}

/// The `abandoned` outcomes of the requests still in flight at `stop`,
/// given when each was due: one per request that had been sent, in the
/// second of its intended time, waiting `stop - due` so far. A closed-model
/// user still thinking at the stop (or whose think ends after the end of
/// traffic) had sent nothing and is not counted. The send lag is not known
/// and is taken as none, so an abandoned request is never late.
fn abandoned_at_stop(
    dues: impl Iterator<Item = Instant>,
    stop: Instant,
    end_at: Instant,
    clock: RunClock,
    target: TargetId,
) -> impl Iterator<Item = Outcome> {
    let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    dues.filter(move |due| *due <= stop && *due < end_at)
        .map(move |due| Outcome {
            target,
            intended_us: clock.us(due),
            latency_us: us(stop - due),
            service_us: us(stop - due),
            send_lag_us: 0,
            kind: Kind::Abandoned,
            status: 0,
            page: Page::default(),
            address: AddressId::NONE,
        })
}

/// Classifies a finished exchange into its outcome.
fn finish(
    x: &Exchanged,
    body: &Hay<'_>,
    classifier: &mut Classifier,
    clock: RunClock,
    target: TargetId,
    address: AddressId,
) -> Outcome {
    let (kind, status, page) = match &x.reply {
        Reply::Response {
            status, headers, ..
        } => {
            let (kind, page) = classifier.classify_parts(status.as_u16(), headers, body);
            (kind, status.as_u16(), page)
        }
        Reply::Failed(kind) => (*kind, 0, Page::default()),
    };
    let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    Outcome {
        target,
        intended_us: clock.us(x.intended),
        latency_us: us(x.done - x.intended),
        service_us: us(x.done - x.sent),
        send_lag_us: us(x.sent - x.intended),
        kind,
        status,
        page,
        address,
    }
}

/// Per-lane counts of what has a name only this lane's classifier knows:
/// reviews pods, and cluster names that got no run-wide slot. Indexed by
/// the classifier's ids, so counting never allocates once a name is known.
#[derive(Default)]
struct Tallies {
    pods: Vec<u64>,
    pods_other: u64,
    /// By the classifier's unconfigured-name index.
    other_clusters: Vec<u64>,
    /// Classifier cluster id → run-wide slot ([`ClusterId::OTHER`] when the
    /// registry had no room); `None` until this lane first meets the id.
    slots: Vec<Option<ClusterId>>,
    /// A failover target's measured requests by the member that answered:
    /// `[answered, ok]`, indexed by the member's place in `failover`.
    members: Vec<[u64; 2]>,
    /// Measured requests that ended as a redirect (`http_3xx`), by Location.
    locations: LocationSlots,
    /// Measured requests answered after following at least one redirect.
    redirects_followed: u64,
}

impl Tallies {
    /// Counts the measured-phase pages' pod (and cluster when it has no
    /// slot), and returns the outcome with the classifier's cluster id
    /// replaced by its run-wide slot, so every lane's seconds agree.
    fn count(
        &mut self,
        mut outcome: Outcome,
        classifier: &Classifier,
        registry: &ClusterRegistry,
        warmup_seconds: u32,
    ) -> Outcome {
        let measured = second_of(outcome.intended_us) >= warmup_seconds;
        let page_counted = measured && matches!(outcome.kind, Kind::Ok | Kind::Degraded);
        let page = &mut outcome.page;
        if page_counted {
            match page.pod.index() {
                Some(i) => bump(&mut self.pods, i),
                None if page.pod == PodId::OTHER => self.pods_other += 1,
                None => {}
            }
        }
        if let Some(i) = page.cluster.index() {
            let slot = self.slot(i, page.cluster, classifier, registry);
            let configured = classifier.config().cluster_names().len();
            if slot == ClusterId::OTHER && page_counted && i >= configured {
                bump(&mut self.other_clusters, i - configured);
            }
            page.cluster = slot;
        }
        outcome
    }

    /// Counts which failover member gave a measured request's outcome.
    fn member(&mut self, member: u8, outcome: &Outcome, warmup_seconds: u32) {
        if second_of(outcome.intended_us) < warmup_seconds {
            return;
        }
        let i = usize::from(member);
        if self.members.len() <= i {
            self.members.resize(i + 1, [0, 0]);
        }
        self.members[i][0] += 1;
        self.members[i][1] += u64::from(outcome.kind.is_success());
    }

    /// Counts a measured request's redirects: the Location of one that
    /// ended it, or that it followed some on the way to its answer.
    fn redirects(
        &mut self,
        reply: &Reply,
        outcome: &Outcome,
        registry: &LocationRegistry,
        warmup_seconds: u32,
    ) {
        let Reply::Response {
            headers, followed, ..
        } = reply
        else {
            return;
        };
        if second_of(outcome.intended_us) < warmup_seconds {
            return;
        }
        self.redirects_followed += u64::from(*followed > 0);
        if outcome.kind == Kind::Http3xx {
            let location = headers.get(hyper::header::LOCATION);
            self.locations
                .count(location.map(|l| l.as_bytes()), registry);
        }
    }

    /// The lock is taken only the first time this lane meets an id.
    fn slot(
        &mut self,
        i: usize,
        id: ClusterId,
        classifier: &Classifier,
        registry: &ClusterRegistry,
    ) -> ClusterId {
        if let Some(Some(slot)) = self.slots.get(i) {
            return *slot;
        }
        let slot = classifier
            .cluster_name(id)
            .and_then(|name| registry.slot(name))
            .map_or(ClusterId::OTHER, |s| ClusterId(s as u8));
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(slot);
        slot
    }

    fn named(&self, classifier: &Classifier) -> LaneTallies {
        let named = |names: &[Box<str>], counts: &[u64]| -> Vec<(String, u64)> {
            names
                .iter()
                .zip(counts.iter().copied().chain(std::iter::repeat(0)))
                .filter(|(_, n)| *n > 0)
                .map(|(name, n)| (name.to_string(), n))
                .collect()
        };
        LaneTallies {
            pods: named(classifier.pod_names(), &self.pods),
            pods_other: self.pods_other,
            other_clusters: named(classifier.other_cluster_names(), &self.other_clusters),
            members: self.members.clone(),
            redirects: self.locations.counts().to_vec(),
            redirects_followed: self.redirects_followed,
        }
    }
}

fn bump(counts: &mut Vec<u64>, i: usize) {
    if counts.len() <= i {
        counts.resize(i + 1, 0);
    }
    counts[i] += 1;
}

/// In-flight requests per floor second (the earliest second each one's
/// outcome can belong to), so the lane knows its oldest open second.
#[derive(Default)]
struct FloorCounts {
    base: u32,
    counts: VecDeque<u32>,
}

impl FloorCounts {
    fn add(&mut self, second: u32) {
        if self.counts.is_empty() {
            self.base = second;
        }
        if second < self.base {
            for _ in second..self.base {
                self.counts.push_front(0);
            }
            self.base = second;
        }
        let index = (second - self.base) as usize;
        while self.counts.len() <= index {
            self.counts.push_back(0);
        }
        self.counts[index] += 1;
    }

    fn remove(&mut self, second: u32) {
        let index = (second - self.base) as usize;
        self.counts[index] -= 1;
        while self.counts.front() == Some(&0) {
            self.counts.pop_front();
            self.base += 1;
        }
    }

    fn min(&self) -> Option<u32> {
        (!self.counts.is_empty()).then_some(self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_in_flight_at_the_stop_are_abandoned_in_their_seconds() {
        let start = Instant::now();
        let clock = RunClock {
            start,
            epoch: std::time::SystemTime::UNIX_EPOCH,
        };
        let at = |ms: u64| start + Duration::from_millis(ms);
        let (stop, end_at) = (at(3_250), at(10_000));
        // Two sent in second 1, one in second 3, and a closed-model user
        // whose think ends after the stop: it has sent nothing.
        let dues = [at(1_100), at(1_900), at(3_000), at(3_400)];
        let got: Vec<Outcome> =
            abandoned_at_stop(dues.into_iter(), stop, end_at, clock, 7).collect();
        let seen: Vec<(u64, u64, Kind, u16)> = got
            .iter()
            .map(|o| (o.intended_us, o.latency_us, o.kind, o.status))
            .collect();
        assert_eq!(
            seen,
            vec![
                (1_100_000, 2_150_000, Kind::Abandoned, 0),
                (1_900_000, 1_350_000, Kind::Abandoned, 0),
                (3_000_000, 250_000, Kind::Abandoned, 0),
            ]
        );
        assert!(got.iter().all(|o| o.target == 7 && o.send_lag_us == 0));
        assert!(got.iter().all(|o| o.page == Page::default()));

        let mut shard = Shard::default();
        for o in &got {
            shard.record_abandoned(o);
        }
        let seconds: Vec<(u32, u64, u64, Option<f64>)> = shard
            .take_before(u32::MAX)
            .into_iter()
            .map(|(s, st)| {
                (
                    s,
                    st.count(Kind::Abandoned),
                    st.latency.len(),
                    st.availability_pct(),
                )
            })
            .collect();
        assert_eq!(
            seconds,
            vec![
                (0, 0, 0, None),
                (1, 2, 0, None),
                (2, 0, 0, None),
                (3, 1, 0, None)
            ]
        );

        // A user whose think would end after the end of traffic never sends.
        let late = abandoned_at_stop(
            [at(9_999), at(10_000)].into_iter(),
            at(10_500),
            end_at,
            clock,
            0,
        );
        assert_eq!(late.count(), 1);
    }

    #[test]
    fn floor_counts_track_the_oldest_open_second() {
        let mut f = FloorCounts::default();
        assert_eq!(f.min(), None);
        f.add(3);
        f.add(3);
        f.add(5);
        assert_eq!(f.min(), Some(3));
        f.remove(3);
        assert_eq!(f.min(), Some(3));
        f.remove(3);
        assert_eq!(f.min(), Some(5));
        f.add(4);
        assert_eq!(f.min(), Some(4));
        f.remove(5);
        f.remove(4);
        assert_eq!(f.min(), None);
    }
}
