// Item: the catalogue. Prices are always embedded; ItemShops, ItemECommerce,
// Images, ItemAttributes, Category, TagRelations(.Tag), ItemMatrix are
// relations loaded on demand.
import { badRequest, payloadList, round2 } from './wire.mjs';
import { applyFields, defaultsFor, parseFieldValue } from './resource.mjs';

export const PRICE_USE_TYPES = [
  [1, 'Default'],
  [2, 'MSRP'],
  [3, 'Online'],
];

export function pricesOut(prices) {
  return {
    ItemPrice: prices.map((p) => ({ amount: Number(p.amount).toFixed(2), useTypeID: String(p.useTypeID), useType: p.useType })),
  };
}

// Prices.ItemPrice may be one object or an array, identified by useType or useTypeID.
export function applyPrices(prices, body) {
  for (const p of payloadList(body, 'ItemPrice')) {
    const entry = PRICE_USE_TYPES.find(([id, name]) => String(p.useTypeID) === String(id) || (p.useType && p.useType.toLowerCase() === name.toLowerCase()));
    if (!entry) throw badRequest(`Invalid price use type '${p.useType ?? p.useTypeID}'.`);
    const amount = Number(p.amount);
    if (!Number.isFinite(amount)) throw badRequest(`Invalid price amount '${p.amount}'.`);
    const row = prices.find((x) => x.useTypeID === entry[0]);
    if (row) row.amount = round2(amount);
    else prices.push({ amount: round2(amount), useTypeID: entry[0], useType: entry[1] });
  }
  prices.sort((a, b) => a.useTypeID - b.useTypeID);
  return prices;
}

export function defaultPrices(amount = 0, online = amount, msrp = amount) {
  return [
    { amount: round2(amount), useTypeID: 1, useType: 'Default' },
    { amount: round2(msrp), useTypeID: 2, useType: 'MSRP' },
    { amount: round2(online), useTypeID: 3, useType: 'Online' },
  ];
}

export const itemECommerce = {
  name: 'ItemECommerce',
  idField: 'itemECommerceID',
  fields: [
    ['itemECommerceID', 'id'],
    ['longDescription', 'str'],
    ['shortDescription', 'str'],
    ['weight', 'num'],
    ['width', 'num'],
    ['height', 'num'],
    ['length', 'num'],
    ['listOnStore', 'bool'],
  ],
  relations: {},
};

export const itemAttributes = {
  name: 'ItemAttributes',
  idField: 'itemAttributeSetID',
  fields: [
    ['attribute1', 'str'],
    ['attribute2', 'str'],
    ['attribute3', 'str'],
    ['itemAttributeSetID', 'id'],
  ],
  relations: {
    ItemAttributeSet: { many: false, entity: 'ItemAttributeSet', rows: (st, row) => st.tables.itemAttributeSets.get(row.itemAttributeSetID) },
  },
};

export const itemPrice = {
  name: 'ItemPrice',
  idField: 'useTypeID',
  fields: [
    ['amount', 'money'],
    ['useTypeID', 'id'],
    ['useType', 'str'],
  ],
  relations: {},
};

const def = {
  name: 'Item',
  table: 'items',
  idField: 'itemID',
  fields: [
    ['itemID', 'id'],
    ['systemSku', 'str'],
    ['defaultCost', 'money'],
    ['avgCost', 'money'],
    ['discountable', 'bool'],
    ['tax', 'bool'],
    ['archived', 'bool'],
    ['itemType', 'str'],
    ['serialized', 'bool'],
    ['description', 'str'],
    ['modelYear', 'int'],
    ['upc', 'str'],
    ['ean', 'str'],
    ['customSku', 'str'],
    ['manufacturerSku', 'str'],
    ['createTime', 'ts'],
    ['timeStamp', 'ts'],
    ['publishToEcom', 'bool'],
    ['categoryID', 'id'],
    ['taxClassID', 'id'],
    ['departmentID', 'id'],
    ['itemMatrixID', 'id'],
    ['manufacturerID', 'id'],
    ['seasonID', 'id'],
    ['defaultVendorID', 'id'],
  ],
  sortable: ['itemID', 'timeStamp', 'description', 'customSku', 'systemSku', 'createTime'],
  archivable: true,
  embed(state, row, out) {
    // Prices are part of every Item answer.
    out.Prices = pricesOut(row.prices);
  },
  relations: {
    ItemShops: { many: true, entity: 'ItemShop', rows: (st, row) => [...row._shops.values()] },
    ItemECommerce: { many: false, entity: 'ItemECommerce', rows: (st, row) => row.ecommerce },
    Images: { many: true, entity: 'Image', rows: (st, row) => row._images },
    ItemAttributes: { many: false, entity: 'ItemAttributes', rows: (st, row) => row.attributes },
    Category: { many: false, entity: 'Category', rows: (st, row) => (row.categoryID ? st.tables.categories.get(row.categoryID) : null) },
    TaxClass: { many: false, entity: 'TaxClass', rows: (st, row) => (row.taxClassID ? st.tables.taxClasses.get(row.taxClassID) : null) },
    TagRelations: { many: true, entity: 'TagRelation', rows: (st, row) => row.tagRelations, nestedAll: ['Tag'] },
    ItemMatrix: { many: false, entity: 'ItemMatrix', rows: (st, row) => (row.itemMatrixID ? st.tables.itemMatrices.get(row.itemMatrixID) : null) },
    Prices: { many: true, entity: 'ItemPrice', rows: (st, row) => row.prices },
  },
  candidates(state, f) {
    if (f.relation || f.field !== 'itemID' || (f.op !== 'IN' && f.op !== '=')) return null;
    return f.values.map((id) => state.tables.items.get(Number(id))).filter(Boolean);
  },
  create(state, body) {
    if (!body || typeof body !== 'object') throw badRequest('Item not created. Invalid payload.');
    if (!body.description || !String(body.description).trim()) throw badRequest('Item not created. An Item must have a description.');
    const row = newItem(state, {});
    applyItem(state, row, body, true);
    const now = state.now();
    row.createTime = now;
    row.timeStamp = now;
    state.tables.items.insert(row);
    if (!row.systemSku) row.systemSku = systemSkuFor(row.itemID);
    if (row.itemMatrixID) state.tables.itemMatrices.get(row.itemMatrixID)?._items.push(row);
    applyItemShops(state, row, body.ItemShops);
    return row;
  },
  update(state, row, body) {
    applyItem(state, row, body, false);
    // Any write to the Item itself bumps its timeStamp (stock-only moves don't).
    state.tables.items.setTimestamp(row, state.now());
    applyItemShops(state, row, body.ItemShops);
    return row;
  },
  // Quirk: DELETE archives the item and zeroes its stock in every shop.
  remove(state, row) {
    for (const [shopID, r] of row._shops) if (shopID !== 0 && r.qoh !== 0) state.adjustStock(row, shopID, -r.qoh);
    state.tables.items.setArchived(row, true);
    state.tables.items.setTimestamp(row, state.now());
    return row;
  },
};
export default def;

export function systemSkuFor(itemID) {
  return `21${String(itemID).padStart(10, '0')}`;
}

export function newItem(state, init) {
  return {
    ...defaultsFor(def),
    itemType: 'default',
    discountable: true,
    tax: true,
    publishToEcom: false,
    prices: defaultPrices(0),
    ecommerce: null,
    attributes: null,
    tagRelations: [],
    _shops: new Map(),
    _images: [],
    ...init,
  };
}

function applyItem(state, row, body, creating) {
  const wasArchived = row.archived;
  applyFields(def, row, body, { skip: ['systemSku', 'avgCost'] });
  if (!creating && !!wasArchived !== !!row.archived) {
    const now = row.archived;
    row.archived = wasArchived;
    state.tables.items.setArchived(row, now);
  }
  if (row.categoryID && !state.tables.categories.get(row.categoryID)) throw badRequest(`Invalid categoryID ${row.categoryID}: no such Category.`);
  if (row.itemMatrixID && !state.tables.itemMatrices.get(row.itemMatrixID)) throw badRequest(`Invalid itemMatrixID ${row.itemMatrixID}: no such ItemMatrix.`);
  if (row.taxClassID && !state.tables.taxClasses.get(row.taxClassID)) throw badRequest(`Invalid taxClassID ${row.taxClassID}: no such TaxClass.`);
  if (body.Prices !== undefined) applyPrices(row.prices, body.Prices);
  if (body.ItemECommerce !== undefined && body.ItemECommerce !== '') {
    if (!row.ecommerce) {
      row.ecommerce = { itemECommerceID: state.nextItemECommerceId++, longDescription: '', shortDescription: '', weight: 0, width: 0, height: 0, length: 0, listOnStore: false };
    }
    applyFields(itemECommerce, row.ecommerce, body.ItemECommerce);
  }
  if (body.ItemAttributes !== undefined && body.ItemAttributes !== '') {
    row.attributes ??= { attribute1: '', attribute2: '', attribute3: '', itemAttributeSetID: 0 };
    for (const [name, type] of itemAttributes.fields) {
      if (name in body.ItemAttributes) row.attributes[name] = parseFieldValue(name, type, body.ItemAttributes[name]);
    }
  }
  if (body.Tags !== undefined) {
    // Tags are written as {"Tags":{"tag":["a","b"]}} and replace the item's tags.
    const names = payloadList(body.Tags, 'tag').map(String);
    row.tagRelations = names.map((name) => {
      let tag = state.tables.tags.list.find((t) => t.name.toLowerCase() === name.toLowerCase());
      if (!tag) tag = state.tables.tags.insert({ tagID: 0, name });
      return { tagRelationID: state.nextTagRelationId++, tagID: tag.tagID, itemID: row.itemID };
    });
  }
}

// ItemShops in an Item payload set reorder points and, when qoh is sent,
// the stock in that shop (an inventory adjustment).
function applyItemShops(state, row, wrapper) {
  if (wrapper === undefined) return;
  for (const s of payloadList(wrapper, 'ItemShop')) {
    let shopID = Number(s.shopID ?? 0);
    if (!shopID && s.itemShopID) shopID = state.tables.itemShops.get(Number(s.itemShopID))?.shopID ?? 0;
    if (!shopID || !state.tables.shops.get(shopID)) throw badRequest(`Invalid ItemShop for item ${row.itemID}: unknown shopID ${s.shopID ?? s.itemShopID}.`);
    const r = state.itemShopRow(row, shopID);
    state.itemShopRow(row, 0);
    if (s.reorderPoint !== undefined) r.reorderPoint = Number(s.reorderPoint);
    if (s.reorderLevel !== undefined) r.reorderLevel = Number(s.reorderLevel);
    if (s.qoh !== undefined) {
      const qoh = Number(s.qoh);
      if (!Number.isInteger(qoh)) throw badRequest(`Invalid qoh '${s.qoh}' for item ${row.itemID}.`);
      state.setStock(row, shopID, qoh);
    }
  }
}
