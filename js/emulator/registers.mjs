// Register: a till in a shop. The rate-limit allowance depends on the
// subscription's register count (config), not on these rows.
import { plainWrites } from './resource.mjs';

const def = {
  name: 'Register',
  table: 'registers',
  idField: 'registerID',
  fields: [
    ['registerID', 'id'],
    ['name', 'str'],
    ['open', 'bool'],
    ['openTime', 'ts'],
    ['openEmployeeID', 'id'],
    ['cashDrawerID', 'id'],
    ['registerReceiptTemplateID', 'id'],
    ['registerTitle', 'str'],
    ['archived', 'bool'],
    ['shopID', 'id'],
  ],
  sortable: ['registerID', 'name'],
  archivable: true,
  relations: {
    Shop: { many: false, entity: 'Shop', rows: (st, row) => st.tables.shops.get(row.shopID) },
  },
};
Object.assign(def, plainWrites(def, { required: ['name', 'shopID'] }));
export default def;
