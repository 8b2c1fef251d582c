// Synchronised play/scrub: the result video the viewer plays leads, the driving video follows.
//
// Play, pause, seek and speed of the leading result are mirrored onto the follower. Times map
// proportionally when both durations are known (a result spans the whole driving clip even if their
// lengths differ slightly), else one to one. Playing one result pauses the others.

const DRIFT_SECONDS = 0.25;

export function createSync(follower, { enabled = () => true } = {}) {
  const leaders = new Set();
  let active = null;

  function targetTime(leader) {
    const lead = leader.duration;
    const follow = follower.duration;
    let time = leader.currentTime;
    if (Number.isFinite(lead) && lead > 0 && Number.isFinite(follow) && follow > 0) {
      time = (leader.currentTime / lead) * follow;
    }
    if (Number.isFinite(follow) && follow > 0) time = Math.min(time, Math.max(0, follow - 0.05));
    return Math.max(0, time);
  }

  function align(leader) {
    if (!enabled() || leader !== active) return;
    const time = targetTime(leader);
    if (Math.abs(follower.currentTime - time) > 0.05) follower.currentTime = time;
  }

  function attach(leader) {
    if (leaders.has(leader)) return;
    leaders.add(leader);
    leader.addEventListener("play", () => {
      active = leader;
      for (const other of leaders) if (other !== leader && !other.paused) other.pause();
      if (!enabled()) return;
      align(leader);
      follower.playbackRate = leader.playbackRate;
      follower.play().catch(() => {});
    });
    leader.addEventListener("pause", () => {
      if (leader === active && enabled()) follower.pause();
    });
    leader.addEventListener("ended", () => {
      if (leader === active && enabled()) follower.pause();
    });
    const seek = () => {
      if (!active) active = leader;
      align(leader);
    };
    leader.addEventListener("seeking", seek);
    leader.addEventListener("seeked", seek);
    leader.addEventListener("ratechange", () => {
      if (leader === active && enabled()) follower.playbackRate = leader.playbackRate;
    });
    leader.addEventListener("timeupdate", () => {
      if (leader !== active || !enabled() || leader.paused) return;
      if (Math.abs(follower.currentTime - targetTime(leader)) > DRIFT_SECONDS) align(leader);
    });
  }

  return { attach };
}
