// Local stand-in for the review Lambda of the approval workflow. The real one emails a team and
// waits for a click; here the decision is made at once: the engineering team accepts latency up
// to 250 ms, the research team accepts accuracy down to 90 %.
class HandledError extends Error {
  name = 'HandledError';
}

export default {
  async RequestReview(event) {
    if (event.latency !== undefined) {
      if (event.latency > 250)
        throw new HandledError(`latency ${event.latency} ms rejected by ${event.team_alias}`);
      return { decision: 'approved', reviewer: event.team_alias };
    }
    if (event.accuracy < 90)
      throw new HandledError(`accuracy ${event.accuracy} % rejected by ${event.team_alias}`);
    return { decision: 'approved', reviewer: event.team_alias };
  },
};
