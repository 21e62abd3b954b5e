// Employee: who rings up a sale (Sale.employeeID).
import { plainWrites } from './resource.mjs';

const def = {
  name: 'Employee',
  table: 'employees',
  idField: 'employeeID',
  fields: [
    ['employeeID', 'id'],
    ['firstName', 'str'],
    ['lastName', 'str'],
    ['lockOut', 'bool'],
    ['archived', 'bool'],
    ['timeStamp', 'ts'],
    ['contactID', 'id'],
    ['clockInEmployeeHoursID', 'id'],
    ['employeeRoleID', 'id'],
    ['limitToShopID', 'id'],
    ['lastShopID', 'id'],
    ['lastSaleID', 'id'],
    ['lastRegisterID', 'id'],
  ],
  sortable: ['employeeID', 'timeStamp'],
  archivable: true,
  relations: {},
};
Object.assign(def, plainWrites(def, { required: ['firstName'] }));
export default def;
