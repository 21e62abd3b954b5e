// Shop: a physical location with its own stock (ItemShop rows).
import { plainWrites } from './resource.mjs';

const def = {
  name: 'Shop',
  table: 'shops',
  idField: 'shopID',
  fields: [
    ['shopID', 'id'],
    ['name', 'str'],
    ['serviceRate', 'num'],
    ['timeZone', 'str'],
    ['taxLabor', 'bool'],
    ['labelTitle', 'str'],
    ['labelMsrp', 'bool'],
    ['archived', 'bool'],
    ['timeStamp', 'ts'],
    ['companyRegistrationNumber', 'str'],
    ['vatNumber', 'str'],
    ['zebraBrowserPrint', 'bool'],
    ['contactID', 'id'],
    ['taxCategoryID', 'id'],
    ['receiptSetupID', 'id'],
    ['ccGatewayID', 'id'],
    ['gatewayConfigID', 'id'],
    ['priceLevelID', 'id'],
  ],
  sortable: ['shopID', 'timeStamp', 'name'],
  archivable: true,
  relations: {
    Registers: { many: true, entity: 'Register', rows: (st, row) => st.tables.registers.list.filter((r) => r.shopID === row.shopID) },
  },
};
Object.assign(def, plainWrites(def, { required: ['name'] }));
export default def;
