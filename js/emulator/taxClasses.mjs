// TaxClass: the tax classes items are put in ("Item" and "Labor" exist in every
// account; merchants add their own, e.g. a reduced rate). Items and matrices
// point at one with taxClassID; the rates themselves live on tax categories.
// Unverified: the `classType` values ("item", "workorder") and that the two
// default classes have IDs 1 and 2.
import { plainWrites } from './resource.mjs';

const def = {
  name: 'TaxClass',
  table: 'taxClasses',
  idField: 'taxClassID',
  fields: [
    ['taxClassID', 'id'],
    ['name', 'str'],
    ['classType', 'str'],
    ['timeStamp', 'ts'],
  ],
  sortable: ['taxClassID', 'name', 'timeStamp'],
  relations: {},
};
Object.assign(def, plainWrites(def, { required: ['name'] }));
export default def;
