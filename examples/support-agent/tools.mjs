// A --plugin module for the support-agent example: the host's `refund` tool (here: a fake payment API).
// weft run examples/support-agent/workflow.json --plugin examples/support-agent/tools.mjs
export const tools = {
  refund: {
    description: 'Refunds an order to the customer’s card.',
    input: {
      order_id: { type: 'string' },
      amount: { type: 'number', description: 'The amount in USD' },
      reason: { type: 'string' },
    },
    async handler(args, ctx) {
      ctx.log('info', `refunding ${args.amount} USD for ${args.order_id}`);
      return {
        refund_id: `re_${args.order_id}`,
        order_id: args.order_id,
        amount: args.amount,
        status: 'succeeded',
      };
    },
  },
};
