// Tag and TagRelation: items carry tags through TagRelations.Tag.
import { plainWrites } from './resource.mjs';

const def = {
  name: 'Tag',
  table: 'tags',
  idField: 'tagID',
  fields: [
    ['tagID', 'id'],
    ['name', 'str'],
  ],
  sortable: ['tagID', 'name'],
  relations: {},
};
Object.assign(def, plainWrites(def, { required: ['name'] }));
export default def;

// TagRelation has no endpoint of its own; it is the Item -> Tag link.
export const tagRelation = {
  name: 'TagRelation',
  idField: 'tagRelationID',
  fields: [
    ['tagRelationID', 'id'],
    ['tagID', 'id'],
    ['itemID', 'id'],
  ],
  relations: {
    Tag: { many: false, entity: 'Tag', rows: (st, row) => st.tables.tags.get(row.tagID) },
  },
  filterFields: {
    name: { type: 'str', get: (st, row) => st.tables.tags.get(row.tagID)?.name },
  },
};
