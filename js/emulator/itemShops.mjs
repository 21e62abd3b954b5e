// ItemShop: stock of one item in one shop; shopID 0 is the all-shops total.
// Incremental stock sync reads ItemShop.json?sort=timeStamp&timeStamp=>,… —
// served from the table's timeStamp index, so it stays cheap at 300 000 rows.
const def = {
  name: 'ItemShop',
  table: 'itemShops',
  idField: 'itemShopID',
  fields: [
    ['itemShopID', 'id'],
    ['qoh', 'int'],
    ['sellable', 'int'],
    ['backorder', 'int'],
    ['componentQoh', 'int'],
    ['componentBackorder', 'int'],
    ['reorderPoint', 'int'],
    ['reorderLevel', 'int'],
    ['timeStamp', 'ts'],
    ['itemID', 'id'],
    ['shopID', 'id'],
  ],
  embed(state, row, out) {
    out.m = { layaways: '0', specialorders: '0', workorders: '0' };
  },
  sortable: ['itemShopID', 'timeStamp', 'itemID', 'shopID', 'qoh'],
  relations: {
    Item: { many: false, entity: 'Item', rows: (st, row) => st.tables.items.get(row.itemID) },
    Shop: { many: false, entity: 'Shop', rows: (st, row) => (row.shopID ? st.tables.shops.get(row.shopID) : null) },
  },
  candidates(state, f) {
    // itemID=IN,[…] / itemID=… -> the items' own rows (reconcile reads).
    if (f.relation || f.field !== 'itemID' || (f.op !== 'IN' && f.op !== '=')) return null;
    const out = [];
    for (const id of f.values) {
      const item = state.tables.items.get(Number(id));
      if (item) for (const r of item._shops.values()) out.push(r);
    }
    return out;
  },
  readOnly: true,
};
export default def;
