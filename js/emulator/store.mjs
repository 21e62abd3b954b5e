// In-memory account state: one Table per resource, rows in id order, a
// timeStamp index where list queries sort by it, and the few lookup indexes
// that keep 100 000-item accounts fast (email, referenceNumber).

export class Table {
  constructor(name, idField, { tsIndex = false } = {}) {
    this.name = name;
    this.idField = idField;
    this.byId = new Map();
    this.list = []; // ascending id order (ids only ever grow)
    this.nextId = 1;
    this.archivedCount = 0;
    this.tsIndex = tsIndex ? [] : null; // sorted by (timeStamp, id)
  }
  get size() {
    return this.list.length;
  }
  get(id) {
    return this.byId.get(Number(id));
  }
  insert(row, { deferIndex = false } = {}) {
    let id = row[this.idField];
    if (!id) {
      id = this.nextId;
      row[this.idField] = id;
    }
    if (id >= this.nextId) this.nextId = id + 1;
    this.byId.set(id, row);
    this.list.push(row);
    if (row.archived) this.archivedCount++;
    if (this.tsIndex && !deferIndex) tsInsert(this.tsIndex, row, this.idField);
    return row;
  }
  // Rebuild the timeStamp index once after a bulk seed.
  rebuildTsIndex() {
    if (!this.tsIndex) return;
    const f = this.idField;
    this.tsIndex = this.list.slice().sort((a, b) => a.timeStamp - b.timeStamp || a[f] - b[f]);
  }
  setTimestamp(row, ms) {
    if (row.timeStamp === ms) return;
    if (this.tsIndex) {
      const i = tsFind(this.tsIndex, row, this.idField);
      if (i >= 0) this.tsIndex.splice(i, 1);
      row.timeStamp = ms;
      tsInsert(this.tsIndex, row, this.idField);
    } else {
      row.timeStamp = ms;
    }
  }
  setArchived(row, archived) {
    if (!!row.archived === !!archived) return;
    row.archived = !!archived;
    this.archivedCount += archived ? 1 : -1;
  }
}

function tsCmp(a, b, f) {
  return a.timeStamp - b.timeStamp || a[f] - b[f];
}
function tsInsert(index, row, f) {
  // Fast path: a fresh timestamp is usually the newest.
  const n = index.length;
  if (n === 0 || tsCmp(index[n - 1], row, f) < 0) {
    index.push(row);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tsCmp(index[mid], row, f) < 0) lo = mid + 1;
    else hi = mid;
  }
  index.splice(lo, 0, row);
}
function tsFind(index, row, f) {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tsCmp(index[mid], row, f) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (index[lo] === row) return lo;
  return index.indexOf(row); // should not happen; keeps the index honest
}

export const TABLES = {
  accounts: ['accountID'],
  shops: ['shopID'],
  registers: ['registerID'],
  employees: ['employeeID'],
  paymentTypes: ['paymentTypeID'],
  categories: ['categoryID', { tsIndex: true }],
  tags: ['tagID'],
  taxClasses: ['taxClassID'],
  itemAttributeSets: ['itemAttributeSetID'],
  itemMatrices: ['itemMatrixID', { tsIndex: true }],
  items: ['itemID', { tsIndex: true }],
  itemShops: ['itemShopID', { tsIndex: true }],
  images: ['imageID', { tsIndex: true }],
  customers: ['customerID', { tsIndex: true }],
  sales: ['saleID', { tsIndex: true }],
  saleLines: ['saleLineID', { tsIndex: true }],
  salePayments: ['salePaymentID'],
};

export function emptyTables() {
  const t = {};
  for (const [name, [idField, opts]] of Object.entries(TABLES)) t[name] = new Table(name, idField, opts);
  return t;
}

export class AccountState {
  constructor(clock) {
    this.clock = clock;
    this.tables = emptyTables();
    this.emailIndex = new Map(); // lower-cased address -> Set(customerID)
    this.referenceIndex = new Map(); // referenceNumber -> [saleID]
    this.nextContactId = 1;
    this.nextItemECommerceId = 1;
    this.nextTagRelationId = 1;
    this.nextItemPriceId = 1;
  }
  // Record timestamps have whole-second resolution (as in Lightspeed's
  // database): rows written in the same second tie and sort by id.
  now() {
    return Math.floor(this.clock.nowMs() / 1000) * 1000;
  }

  // ---- stock -------------------------------------------------------------
  // Rows appear lazily: an item has an ItemShop row for a shop once stock was
  // ever recorded there; shopID 0 is the all-shops total.
  itemShopRow(item, shopID, { create = true, ts } = {}) {
    let row = item._shops.get(shopID);
    if (!row && create) {
      const now = ts ?? this.now();
      row = {
        itemShopID: 0,
        qoh: 0,
        sellable: 0,
        backorder: 0,
        componentQoh: 0,
        componentBackorder: 0,
        reorderPoint: 0,
        reorderLevel: 0,
        timeStamp: now,
        itemID: item.itemID,
        shopID,
      };
      this.tables.itemShops.insert(row);
      item._shops.set(shopID, row);
    }
    return row;
  }

  // Moves qoh in one shop and in the shopID 0 total row and bumps both rows'
  // timeStamp. Quirk: the Item's own timeStamp does NOT change for stock moves.
  adjustStock(item, shopID, delta) {
    const now = this.now();
    const row = this.itemShopRow(item, shopID);
    const total = this.itemShopRow(item, 0);
    row.qoh += delta;
    row.sellable = row.qoh;
    this.recomputeTotal(item, total);
    this.tables.itemShops.setTimestamp(row, now);
    this.tables.itemShops.setTimestamp(total, now);
  }

  setStock(item, shopID, qoh) {
    const row = this.itemShopRow(item, shopID);
    this.adjustStock(item, shopID, qoh - row.qoh);
  }

  recomputeTotal(item, total = this.itemShopRow(item, 0)) {
    let sum = 0;
    for (const [shopID, r] of item._shops) if (shopID !== 0) sum += r.qoh;
    total.qoh = sum;
    total.sellable = sum;
  }

  // ---- indexes -------------------------------------------------------------
  indexCustomerEmails(customer) {
    for (const key of customer._emailKeys ?? []) this.emailIndex.get(key)?.delete(customer.customerID);
    customer._emailKeys = [];
    for (const e of customer.contact?.emails ?? []) {
      const key = String(e.address).toLowerCase();
      if (!this.emailIndex.has(key)) this.emailIndex.set(key, new Set());
      this.emailIndex.get(key).add(customer.customerID);
      customer._emailKeys.push(key);
    }
  }
  indexSaleReference(sale) {
    const ref = sale.referenceNumber;
    if (!ref) return;
    if (!this.referenceIndex.has(ref)) this.referenceIndex.set(ref, []);
    this.referenceIndex.get(ref).push(sale.saleID);
  }
}
