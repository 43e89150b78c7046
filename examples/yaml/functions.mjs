// Lambdas of the ticket triage example.
export default {
  async Classify({ subject }) {
    const urgent = /\b(down|outage|urgent)\b/i.test(subject);
    return { priority: urgent ? 'urgent' : 'normal' };
  },
  async Notify({ channel, ticketId, message }) {
    return { notified: true, channel, ticketId, message };
  },
};
