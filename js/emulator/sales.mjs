// Sale: POST creates (and may complete) a sale; a completed sale must balance
// (lines incl. tax = payments) and moves stock in its shop. There is no
// idempotency key: the same referenceNumber can be posted twice, which is why
// clients look it up first (Sale.json?referenceNumber=…).
import { ApiError, badRequest, payloadList, round2, toBool } from './wire.mjs';
import { applyFields, defaultsFor } from './resource.mjs';

const def = {
  name: 'Sale',
  table: 'sales',
  idField: 'saleID',
  fields: [
    ['saleID', 'id'],
    ['timeStamp', 'ts'],
    ['discountPercent', 'num'],
    ['completed', 'bool'],
    ['archived', 'bool'],
    ['voided', 'bool'],
    ['enablePromotions', 'bool'],
    ['isTaxInclusive', 'bool'],
    ['createTime', 'ts'],
    ['updatetime', 'ts'],
    ['completeTime', 'ts'],
    ['referenceNumber', 'str'],
    ['referenceNumberSource', 'str'],
    ['tax1Rate', 'num'],
    ['tax2Rate', 'num'],
    ['change', 'money'],
    ['tipEnabled', 'bool'],
    ['receiptPreference', 'str'],
    ['displayableSubtotal', 'money'],
    ['ticketNumber', 'str'],
    ['calcDiscount', 'money'],
    ['calcTotal', 'money'],
    ['calcSubtotal', 'money'],
    ['calcTaxable', 'money'],
    ['calcNonTaxable', 'money'],
    ['calcAvgCost', 'money'],
    ['calcFIFOCost', 'money'],
    ['calcTax1', 'money'],
    ['calcTax2', 'money'],
    ['calcPayments', 'money'],
    ['calcTips', 'money'],
    ['total', 'money'],
    ['totalDue', 'money'],
    ['displayableTotal', 'money'],
    ['balance', 'money'],
    ['customerID', 'id'],
    ['discountID', 'id'],
    ['employeeID', 'id'],
    ['tipEmployeeID', 'id'],
    ['quoteID', 'id'],
    ['registerID', 'id'],
    ['shipToID', 'id'],
    ['shopID', 'id'],
    ['taxCategoryID', 'id'],
    ['taxTotal', 'money'],
  ],
  sortable: ['saleID', 'timeStamp', 'completeTime', 'updatetime'],
  archivable: true,
  relations: {
    SaleLines: { many: true, entity: 'SaleLine', rows: (st, row) => row._lines, nestedAll: ['Item'] },
    SalePayments: { many: true, entity: 'SalePayment', rows: (st, row) => row._payments, nestedAll: ['PaymentType'] },
    Customer: { many: false, entity: 'Customer', rows: (st, row) => (row.customerID ? st.tables.customers.get(row.customerID) : null) },
  },
  // The answer to a write shows the lines and payments just written.
  writeRelations: { SaleLines: {}, SalePayments: {} },
  candidates(state, f) {
    if (!f.relation && f.field === 'referenceNumber' && f.op === '=') {
      return (state.referenceIndex.get(String(f.values[0])) ?? []).map((id) => state.tables.sales.get(id)).filter(Boolean);
    }
    if (!f.relation && f.field === 'saleID' && (f.op === '=' || f.op === 'IN')) {
      return f.values.map((id) => state.tables.sales.get(Number(id))).filter(Boolean);
    }
    return null;
  },
  lookup(state, id) {
    // The refund URL also accepts the ticketNumber (22000000xxxx).
    const sale = state.tables.sales.get(Number(id));
    if (sale) return sale;
    if (/^22\d{10}$/.test(String(id))) return state.tables.sales.get(Number(String(id).slice(2)));
    return undefined;
  },
  create(state, body) {
    return createSale(state, body);
  },
  update(state, sale, body) {
    return updateSale(state, sale, body);
  },
  remove(state, sale) {
    state.tables.sales.setArchived(sale, true);
    touch(state, sale);
    return sale;
  },
  actions: {
    refund: { method: 'POST', handler: (state, sale, body) => refundSale(state, sale, body) },
  },
};
export default def;

const WRITABLE = ['customerID', 'employeeID', 'registerID', 'shopID', 'referenceNumber', 'referenceNumberSource', 'discountPercent', 'enablePromotions', 'receiptPreference', 'taxCategoryID', 'tipEmployeeID', 'quoteID', 'shipToID', 'discountID', 'isTaxInclusive', 'tipEnabled'];

function touch(state, sale) {
  const now = state.now();
  sale.updatetime = now;
  state.tables.sales.setTimestamp(sale, now);
}

function requireRef(state, table, id, what) {
  if (!id || !state.tables[table].get(id)) throw badRequest(`Sale not created. Invalid ${what} '${id || 0}'.`);
}

export function createSale(state, body, { refundOf = null } = {}) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('Sale not created. Invalid payload.');
  const now = state.now();
  const sale = {
    ...defaultsFor(def),
    enablePromotions: true,
    receiptPreference: 'printed',
    createTime: now,
    updatetime: now,
    timeStamp: now,
    completeTime: null,
    _lines: [],
    _payments: [],
  };
  const picked = Object.fromEntries(WRITABLE.filter((k) => k in body).map((k) => [k, body[k]]));
  applyFields(def, sale, picked);
  requireRef(state, 'shops', sale.shopID, 'shopID');
  requireRef(state, 'registers', sale.registerID, 'registerID');
  requireRef(state, 'employees', sale.employeeID, 'employeeID');
  if (sale.customerID && !state.tables.customers.get(sale.customerID)) throw badRequest(`Sale not created. Invalid customerID '${sale.customerID}'.`);
  if (!('taxCategoryID' in body)) sale.taxCategoryID = state.tables.shops.get(sale.shopID).taxCategoryID;
  const rates = state.taxCategories.get(sale.taxCategoryID) ?? { tax1Rate: 0, tax2Rate: 0 };
  sale.tax1Rate = rates.tax1Rate;
  sale.tax2Rate = rates.tax2Rate;
  sale.tipEmployeeID ||= sale.employeeID;

  const lines = payloadList(body.SaleLines, 'SaleLine').map((l) => buildLine(state, sale, l));
  const payments = payloadList(body.SalePayments, 'SalePayment').map((p) => buildPayment(state, sale, p));
  const completed = toBool(body.completed, refundOf ? true : false);
  computeTotals(sale, lines, payments);
  if (refundOf) {
    fillRefundAmounts(payments, sale.total);
    computeTotals(sale, lines, payments);
  } else if (payments.some((p) => p.amount === null)) {
    throw badRequest('Sale not created. Every SalePayment needs an amount.');
  }
  if (completed) checkBalance(sale, 'Sale not created');
  checkReturns(state, lines);

  // All checks passed: write.
  state.tables.sales.insert(sale);
  sale.ticketNumber = `22${String(sale.saleID).padStart(10, '0')}`;
  for (const l of lines) {
    l.saleID = sale.saleID;
    state.tables.saleLines.insert(l);
    sale._lines.push(l);
  }
  for (const p of payments) {
    p.saleID = sale.saleID;
    state.tables.salePayments.insert(p);
    sale._payments.push(p);
  }
  state.indexSaleReference(sale);
  if (completed) completeSale(state, sale);
  return sale;
}

function updateSale(state, sale, body) {
  if (!body || typeof body !== 'object') throw badRequest('Sale not updated. Invalid payload.');
  const touchesLines = body.SaleLines !== undefined || body.SalePayments !== undefined;
  if (sale.completed && (touchesLines || 'shopID' in body)) {
    throw badRequest(`Sale ${sale.saleID} is completed; its lines, payments and shop cannot be changed. Post a refund instead.`);
  }
  const oldRef = sale.referenceNumber;
  const picked = Object.fromEntries(WRITABLE.filter((k) => k in body).map((k) => [k, body[k]]));
  const draft = { ...sale };
  applyFields(def, draft, picked);
  const lines = payloadList(body.SaleLines, 'SaleLine').map((l) => buildLine(state, draft, l));
  const payments = payloadList(body.SalePayments, 'SalePayment').map((p) => buildPayment(state, draft, p));
  if (payments.some((p) => p.amount === null)) throw badRequest(`Sale ${sale.saleID} not updated. Every SalePayment needs an amount.`);
  const allLines = [...sale._lines, ...lines];
  const allPayments = [...sale._payments, ...payments];
  const completing = !sale.completed && toBool(body.completed, false);
  computeTotals(draft, allLines, allPayments);
  if (completing) checkBalance(draft, 'Sale not completed');
  checkReturns(state, lines);
  if ('archived' in body) state.tables.sales.setArchived(sale, toBool(body.archived));
  for (const k of Object.keys(picked)) sale[k] = draft[k];
  for (const l of lines) {
    l.saleID = sale.saleID;
    state.tables.saleLines.insert(l);
    sale._lines.push(l);
  }
  for (const p of payments) {
    p.saleID = sale.saleID;
    state.tables.salePayments.insert(p);
    sale._payments.push(p);
  }
  computeTotals(sale, sale._lines, sale._payments);
  if (sale.referenceNumber !== oldRef) {
    const ids = state.referenceIndex.get(oldRef);
    if (ids) state.referenceIndex.set(oldRef, ids.filter((id) => id !== sale.saleID));
    state.indexSaleReference(sale);
  }
  touch(state, sale);
  if (completing) completeSale(state, sale);
  return sale;
}

function buildLine(state, sale, l) {
  const now = state.now();
  let item = null;
  if (l.itemID !== undefined && String(l.itemID) !== '0') item = state.tables.items.get(Number(l.itemID));
  else if (l.itemCode !== undefined) item = findByCode(state, String(l.itemCode));
  let parent = null;
  if (l.parentSaleLineID !== undefined && String(l.parentSaleLineID) !== '0') {
    parent = state.tables.saleLines.get(Number(l.parentSaleLineID));
    if (!parent) throw badRequest(`Invalid parentSaleLineID '${l.parentSaleLineID}': no such SaleLine.`);
    if (!item) item = state.tables.items.get(parent.itemID) ?? null;
    if (item && parent.itemID !== item.itemID) throw badRequest(`parentSaleLineID ${parent.saleLineID} is for item ${parent.itemID}, not ${item.itemID}.`);
  }
  if (!item) throw badRequest(`Invalid SaleLine: item '${l.itemID ?? l.itemCode ?? ''}' not found.`);
  const qty = Number(l.unitQuantity ?? 1);
  if (!Number.isInteger(qty) || qty === 0) throw badRequest(`Invalid unitQuantity '${l.unitQuantity}' for item ${item.itemID}.`);
  if (parent && qty > 0) throw badRequest(`A return line (parentSaleLineID ${parent.saleLineID}) must have a negative unitQuantity.`);
  const defaultPrice = item.prices.find((p) => p.useTypeID === 1)?.amount ?? 0;
  const unitPrice = l.unitPrice !== undefined ? Number(l.unitPrice) : parent ? parent.unitPrice : defaultPrice;
  if (!Number.isFinite(unitPrice)) throw badRequest(`Invalid unitPrice '${l.unitPrice}' for item ${item.itemID}.`);
  const discountAmount = Number(l.discountAmount ?? 0) || 0;
  const tax = l.tax !== undefined ? toBool(l.tax) : parent ? parent.tax : item.tax;
  return {
    saleLineID: 0,
    createTime: now,
    timeStamp: now,
    unitQuantity: qty,
    unitPrice: round2(unitPrice),
    normalUnitPrice: round2(defaultPrice),
    discountAmount: round2(discountAmount),
    discountPercent: 0,
    avgCost: item.defaultCost,
    fifoCost: item.defaultCost,
    tax,
    tax1Rate: 0,
    tax2Rate: 0,
    isLayaway: false,
    isWorkorder: false,
    isSpecialOrder: false,
    calcLineDiscount: round2(discountAmount),
    calcTransactionDiscount: 0,
    calcTotal: 0,
    calcSubtotal: 0,
    calcTax1: 0,
    calcTax2: 0,
    taxClassID: item.taxClassID,
    customerID: sale.customerID,
    discountID: 0,
    employeeID: sale.employeeID,
    itemID: item.itemID,
    noteID: 0,
    parentSaleLineID: parent ? parent.saleLineID : 0,
    shopID: sale.shopID,
    saleID: 0,
    itemFeeID: 0,
    _returned: 0,
  };
}

function findByCode(state, code) {
  // itemCode matches the UPC, EAN, or itemID (docs), and customSku here.
  const byId = /^\d+$/.test(code) ? state.tables.items.get(Number(code)) : null;
  return byId ?? state.tables.items.list.find((i) => i.upc === code || i.ean === code || i.customSku === code) ?? null;
}

function buildPayment(state, sale, p) {
  const type = state.tables.paymentTypes.get(Number(p.paymentTypeID));
  if (!type) throw badRequest(`Invalid SalePayment: paymentTypeID '${p.paymentTypeID ?? ''}' not found.`);
  const amount = p.amount === undefined || p.amount === '' ? null : Number(p.amount);
  if (amount !== null && !Number.isFinite(amount)) throw badRequest(`Invalid SalePayment amount '${p.amount}'.`);
  return {
    salePaymentID: 0,
    amount: amount === null ? null : round2(amount),
    tipAmount: 0,
    createTime: state.now(),
    archived: false,
    remoteReference: String(p.remoteReference ?? ''),
    paymentID: String(p.paymentID ?? ''),
    saleID: 0,
    paymentTypeID: type.paymentTypeID,
    ccChargeID: 0,
    refPaymentID: 0,
    registerID: sale.registerID,
    employeeID: sale.employeeID,
    creditAccountID: 0,
  };
}

// Money: each line is rounded to cents; tax applies per line when the line is
// taxable, at the sale's tax category rates.
function computeTotals(sale, lines, payments) {
  let subtotal = 0;
  let taxable = 0;
  let tax1 = 0;
  let tax2 = 0;
  let total = 0;
  for (const l of lines) {
    l.calcSubtotal = round2(l.unitQuantity * l.unitPrice - l.discountAmount);
    l.tax1Rate = l.tax ? sale.tax1Rate : 0;
    l.tax2Rate = l.tax ? sale.tax2Rate : 0;
    l.calcTax1 = round2(l.calcSubtotal * l.tax1Rate);
    l.calcTax2 = round2(l.calcSubtotal * l.tax2Rate);
    l.calcTotal = round2(l.calcSubtotal + l.calcTax1 + l.calcTax2);
    subtotal += l.calcSubtotal;
    if (l.tax) taxable += l.calcSubtotal;
    tax1 += l.calcTax1;
    tax2 += l.calcTax2;
    total += l.calcTotal;
  }
  const paid = payments.reduce((s, p) => s + (p.amount ?? 0), 0);
  Object.assign(sale, {
    calcSubtotal: round2(subtotal),
    displayableSubtotal: round2(subtotal),
    calcTaxable: round2(taxable),
    calcNonTaxable: round2(subtotal - taxable),
    calcTax1: round2(tax1),
    calcTax2: round2(tax2),
    taxTotal: round2(tax1 + tax2),
    calcTotal: round2(total),
    total: round2(total),
    totalDue: round2(total),
    displayableTotal: round2(total),
    calcPayments: round2(paid),
    balance: round2(total - paid),
    calcAvgCost: round2(lines.reduce((s, l) => s + l.unitQuantity * l.avgCost, 0)),
    calcFIFOCost: round2(lines.reduce((s, l) => s + l.unitQuantity * l.fifoCost, 0)),
  });
}

// A completed sale must balance: lines incl. tax = payments (to the cent).
function checkBalance(sale, prefix) {
  if (Math.abs(sale.total - sale.calcPayments) >= 0.005) {
    throw new ApiError(400, `${prefix}. A completed Sale must be paid in full: total ${sale.total.toFixed(2)}, payments ${sale.calcPayments.toFixed(2)}, balance ${(sale.total - sale.calcPayments).toFixed(2)}.`, 'Exception');
  }
}

function checkReturns(state, lines) {
  const pending = new Map();
  for (const l of lines) {
    if (!l.parentSaleLineID) continue;
    const parent = state.tables.saleLines.get(l.parentSaleLineID);
    const parentSale = state.tables.sales.get(parent.saleID);
    if (!parentSale?.completed) throw badRequest(`parentSaleLineID ${parent.saleLineID} belongs to a sale that is not completed.`);
    const already = (pending.get(parent) ?? parent._returned) + -l.unitQuantity;
    if (already > parent.unitQuantity) {
      throw badRequest(`Cannot return ${-l.unitQuantity} of item ${parent.itemID}: only ${parent.unitQuantity - parent._returned} left to return on SaleLine ${parent.saleLineID}.`);
    }
    pending.set(parent, already);
  }
}

// Completing moves stock in the sale's shop (returns restock) and bumps the
// ItemShop rows — not the Item. Docs (Item.itemType): "non_inventory" items
// have no tracked inventory, so their lines move no stock.
function completeSale(state, sale) {
  const now = state.now();
  sale.completed = true;
  sale.completeTime = now;
  for (const l of sale._lines) {
    const item = state.tables.items.get(l.itemID);
    if (item && item.itemType !== 'non_inventory') state.adjustStock(item, sale.shopID, -l.unitQuantity);
    if (l.parentSaleLineID) state.tables.saleLines.get(l.parentSaleLineID)._returned += -l.unitQuantity;
  }
  touch(state, sale);
}

function fillRefundAmounts(payments, total) {
  // Refund payments without an amount take what is left of the refund total.
  let given = payments.reduce((s, p) => s + (p.amount ?? 0), 0);
  for (const p of payments) {
    if (p.amount === null) {
      p.amount = round2(total - given);
      given = total;
    }
  }
}

// POST Sale/{id}/refund.json: without SaleLines refunds everything still
// returnable on the sale; restocks when completed (default true).
export function refundSale(state, original, body = {}) {
  if (!original.completed) throw badRequest(`Sale ${original.saleID} is not completed and cannot be refunded.`);
  if (original.voided) throw badRequest(`Sale ${original.saleID} is voided.`);
  const payments = payloadList(body.SalePayments, 'SalePayment');
  if (payments.length === 0) throw badRequest('Refund not created. At least one SalePayment (paymentTypeID) is required.');
  let lines = payloadList(body.SaleLines, 'SaleLine');
  if (lines.length === 0) {
    lines = original._lines
      .filter((l) => l.unitQuantity > 0 && l.unitQuantity - l._returned > 0)
      .map((l) => ({ parentSaleLineID: l.saleLineID, unitQuantity: -(l.unitQuantity - l._returned) }));
    if (lines.length === 0) throw badRequest(`Sale ${original.saleID} has nothing left to refund.`);
  }
  for (const l of lines) {
    const parent = state.tables.saleLines.get(Number(l.parentSaleLineID));
    if (!parent || parent.saleID !== original.saleID) throw badRequest(`Refund not created. SaleLine ${l.parentSaleLineID} is not a line of sale ${original.saleID}.`);
  }
  const sale = createSale(
    state,
    {
      employeeID: body.employeeID ?? original.employeeID,
      registerID: body.registerID ?? original.registerID,
      shopID: body.shopID ?? original.shopID,
      customerID: original.customerID,
      taxCategoryID: original.taxCategoryID,
      completed: body.completed ?? true,
      referenceNumber: body.referenceNumber ?? '',
      referenceNumberSource: body.referenceNumberSource ?? '',
      SaleLines: { SaleLine: lines },
      SalePayments: { SalePayment: payments },
    },
    { refundOf: original },
  );
  return sale;
}
