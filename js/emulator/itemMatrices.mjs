// ItemMatrix: a product with variants; each variant is an Item carrying
// itemMatrixID and ItemAttributes (attribute1..3 named by the ItemAttributeSet).
import { badRequest } from './wire.mjs';
import { applyFields, defaultsFor } from './resource.mjs';
import { applyPrices, defaultPrices, itemECommerce, pricesOut } from './items.mjs';

const def = {
  name: 'ItemMatrix',
  table: 'itemMatrices',
  idField: 'itemMatrixID',
  fields: [
    ['itemMatrixID', 'id'],
    ['description', 'str'],
    ['tax', 'bool'],
    ['defaultCost', 'money'],
    ['itemType', 'str'],
    ['modelYear', 'int'],
    ['archived', 'bool'],
    ['timeStamp', 'ts'],
    ['itemECommerceID', 'id'],
    ['categoryID', 'id'],
    ['taxClassID', 'id'],
    ['departmentID', 'id'],
    ['itemAttributeSetID', 'id'],
    ['manufacturerID', 'id'],
    ['seasonID', 'id'],
    ['defaultVendorID', 'id'],
  ],
  get(state, row, name) {
    if (name === 'itemECommerceID') return row.ecommerce?.itemECommerceID ?? 0;
    return row[name];
  },
  sortable: ['itemMatrixID', 'timeStamp', 'description'],
  archivable: true,
  embed(state, row, out) {
    out.Prices = pricesOut(row.prices);
  },
  relations: {
    ItemAttributeSet: { many: false, entity: 'ItemAttributeSet', rows: (st, row) => st.tables.itemAttributeSets.get(row.itemAttributeSetID) },
    Items: { many: true, entity: 'Item', rows: (st, row) => row._items },
    Images: { many: true, entity: 'Image', rows: (st, row) => row._images },
    Category: { many: false, entity: 'Category', rows: (st, row) => (row.categoryID ? st.tables.categories.get(row.categoryID) : null) },
    ItemECommerce: { many: false, entity: 'ItemECommerce', rows: (st, row) => row.ecommerce },
  },
  create(state, body) {
    if (!body.description) throw badRequest('ItemMatrix not created. An ItemMatrix must have a description.');
    const row = newMatrix(applyFields(def, defaultsFor(def), body));
    if (row.itemAttributeSetID && !state.tables.itemAttributeSets.get(row.itemAttributeSetID)) throw badRequest(`Invalid itemAttributeSetID ${row.itemAttributeSetID}.`);
    if (body.Prices) applyPrices(row.prices, body.Prices);
    if (body.ItemECommerce) {
      row.ecommerce = { itemECommerceID: state.nextItemECommerceId++, longDescription: '', shortDescription: '', weight: 0, width: 0, height: 0, length: 0, listOnStore: false };
      applyFields(itemECommerce, row.ecommerce, body.ItemECommerce);
    }
    row.timeStamp = state.now();
    return state.tables.itemMatrices.insert(row);
  },
  update(state, row, body) {
    applyFields(def, row, body);
    if (body.Prices) applyPrices(row.prices, body.Prices);
    state.tables.itemMatrices.setTimestamp(row, state.now());
    return row;
  },
  remove(state, row) {
    state.tables.itemMatrices.setArchived(row, true);
    state.tables.itemMatrices.setTimestamp(row, state.now());
    return row;
  },
};
export default def;

export function newMatrix(init) {
  return { itemType: 'default', tax: true, prices: defaultPrices(0), ecommerce: null, _items: [], _images: [], ...init };
}
