// Lambdas of the order fulfilment example. Charge fails once with a retryable error, to show
// the branch's Retry at work (its 1-second backoff is skipped with --wait-scale 0).
class PaymentGatewayBusy extends Error {
  name = 'PaymentGatewayBusy';
}

// Attempts per execution, so that every run sees the first attempt fail.
const attempts = new Map();

export default {
  async Charge({ orderId, amount, execution }) {
    const n = (attempts.get(execution) ?? 0) + 1;
    attempts.set(execution, n);
    if (n === 1) throw new PaymentGatewayBusy('the payment gateway is busy, try again');
    attempts.delete(execution);
    return { receipt: `rcpt-${orderId}`, amount };
  },
  async Reserve({ orderId, items }) {
    return { orderId, reserved: items.map((i) => i.sku) };
  },
};
