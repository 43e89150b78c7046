// The calculation Lambdas. Each receives `{ input }` (the previous function's payload) and
// returns `{ result }` alongside the operands it was given, so the next step can use them.
const number = (v, name) => {
  const n = typeof v === 'string' ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new TypeError(`${name} is not a number: ${JSON.stringify(v)}`);
  return n;
};

export default {
  // Accepts numbers or numeric strings; anything else fails the task.
  async CleanInput({ input }) {
    return { x: number(input.x, 'x'), y: number(input.y, 'y') };
  },
  async Multiply({ input }) {
    return { ...input, result: input.x * input.y };
  },
  async Subtract({ input }) {
    return { ...input, result: input.result - input.x };
  },
  async Add({ input }) {
    return { ...input, result: input.result + input.y };
  },
  async Divide({ input }) {
    return { ...input, result: input.result / 2 };
  },
  async Notify({ subject, result }) {
    return { notified: true, subject, result };
  },
};
