// ItemAttributeSet names the attributes of a matrix (Size, Colour, …).
import { plainWrites } from './resource.mjs';

const def = {
  name: 'ItemAttributeSet',
  table: 'itemAttributeSets',
  idField: 'itemAttributeSetID',
  fields: [
    ['itemAttributeSetID', 'id'],
    ['name', 'str'],
    ['attributeName1', 'str'],
    ['attributeName2', 'str'],
    ['attributeName3', 'str'],
    ['system', 'bool'],
    ['archived', 'bool'],
  ],
  sortable: ['itemAttributeSetID'],
  archivable: true,
  relations: {},
};
Object.assign(def, plainWrites(def, { required: ['name'] }));
export default def;
