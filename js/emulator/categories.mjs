// Category: a tree kept as a nested set (leftNode/rightNode) with
// fullPathName "Apparel/T-Shirts".
import { badRequest } from './wire.mjs';
import { applyFields, defaultsFor } from './resource.mjs';

const def = {
  name: 'Category',
  table: 'categories',
  idField: 'categoryID',
  fields: [
    ['categoryID', 'id'],
    ['name', 'str'],
    ['nodeDepth', 'int'],
    ['fullPathName', 'str'],
    ['leftNode', 'int'],
    ['rightNode', 'int'],
    ['createTime', 'ts'],
    ['timeStamp', 'ts'],
    ['parentID', 'id'],
  ],
  sortable: ['categoryID', 'timeStamp', 'name', 'fullPathName', 'leftNode'],
  relations: {
    Parent: { many: false, entity: 'Category', rows: (st, row) => (row.parentID ? st.tables.categories.get(row.parentID) : null) },
  },
  create(state, body) {
    if (!body.name) throw badRequest('Category not created. A Category must have a name.');
    const parentID = Number(body.parentID ?? 0);
    if (parentID && !state.tables.categories.get(parentID)) throw badRequest(`Category not created. Parent category ${parentID} does not exist.`);
    const row = applyFields(def, defaultsFor(def), { name: body.name, parentID });
    row.createTime = row.timeStamp = state.now();
    state.tables.categories.insert(row);
    renumberCategories(state);
    return row;
  },
  update(state, row, body) {
    applyFields(def, row, body, { skip: ['nodeDepth', 'fullPathName', 'leftNode', 'rightNode'] });
    state.tables.categories.setTimestamp(row, state.now());
    renumberCategories(state);
    return row;
  },
};
export default def;

// Recomputes depth, full path and nested-set numbers for the whole tree.
export function renumberCategories(state) {
  const rows = state.tables.categories.list;
  const children = new Map();
  for (const r of rows) {
    if (!children.has(r.parentID)) children.set(r.parentID, []);
    children.get(r.parentID).push(r);
  }
  let counter = 1;
  const walk = (parentID, depth, path) => {
    for (const r of children.get(parentID) ?? []) {
      r.nodeDepth = depth;
      r.fullPathName = path ? `${path}/${r.name}` : r.name;
      r.leftNode = counter++;
      walk(r.categoryID, depth + 1, r.fullPathName);
      r.rightNode = counter++;
    }
  };
  walk(0, 0, '');
}
