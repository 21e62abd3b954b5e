// Account: GET /API/V3/Account.json lists the accounts the token can reach.
const def = {
  name: 'Account',
  table: 'accounts',
  idField: 'accountID',
  fields: [
    ['accountID', 'id'],
    ['name', 'str'],
  ],
  embed(state, row, out) {
    out.link = { '@attributes': { href: `/API/V3/Account/${row.accountID}` } };
  },
  relations: {},
  readOnly: true,
};
export default def;
