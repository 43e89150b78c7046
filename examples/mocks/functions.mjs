// GreetCustomer, for runs that do not mock LambdaState (no test case in the state machine ARN).
export default {
  GreetCustomer: async (event) => ({ greeting: `Hello, ${event.customer}!` }),
};
