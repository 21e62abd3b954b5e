// Sales: balance check, stock moves in the shop and the total row, ItemShop
// timestamps bump but the Item's does not, reference lookup, refunds and
// partial returns restock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc, asList } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
});
after(() => c.close());

async function stock(itemID) {
  const item = (await c.get(`Item/${itemID}.json?load_relations=${enc('["ItemShops"]')}`)).body.Item;
  return { item, rows: Object.fromEntries(asList(item.ItemShops.ItemShop).map((r) => [r.shopID, r])) };
}

const webSale = (ref, lines, amount, extra = {}) => ({
  employeeID: 3,
  registerID: 1,
  shopID: 1,
  customerID: 1,
  completed: true,
  referenceNumber: ref,
  referenceNumberSource: 'woocommerce',
  SaleLines: { SaleLine: lines },
  SalePayments: { SalePayment: { paymentTypeID: 7, amount } },
  ...extra,
});

test('a completed sale must balance (lines incl. tax vs payments) or 400, and nothing is written', async () => {
  const before = await stock(1);
  const count = (await c.get('Sale.json?count=1')).body['@attributes'].count;
  const r = await c.post('Sale.json', webSale('WEB-BAD', [{ itemID: 1, unitQuantity: 2, unitPrice: 17 }], 33.99));
  assert.equal(r.status, 400);
  assert.match(r.body.message, /total 34\.00, payments 33\.99/);
  assert.equal((await c.get('Sale.json?count=1')).body['@attributes'].count, count);
  assert.deepEqual((await stock(1)).rows, before.rows);
  // with tax (tax category 1 = 10%) the payment must include tax
  const taxedShort = await c.post('Sale.json', webSale('WEB-TAX', [{ itemID: 3, unitQuantity: 1, unitPrice: 10 }], 10, { taxCategoryID: 1 }));
  assert.equal(taxedShort.status, 400);
  const taxed = await c.post('Sale.json', webSale('WEB-TAX', [{ itemID: 3, unitQuantity: 1, unitPrice: 10 }], 11, { taxCategoryID: 1 }));
  assert.equal(taxed.status, 200);
  assert.equal(taxed.body.Sale.calcTax1, '1.00');
  assert.equal(taxed.body.Sale.total, '11.00');
  // an open (not completed) sale need not balance and moves no stock
  const open = await c.post('Sale.json', { ...webSale('WEB-OPEN', [{ itemID: 1, unitQuantity: 1, unitPrice: 17 }], 0), completed: false });
  assert.equal(open.status, 200);
  assert.equal(open.body.Sale.completed, 'false');
  assert.equal((await stock(1)).rows['1'].qoh, before.rows['1'].qoh);
});

test('completing moves qoh in that shop and the 0 total row, bumps ItemShop timeStamps, not the Item', async () => {
  await c.control('POST', 'clock', { advance_s: 10 });
  const before = await stock(1);
  const r = await c.post('Sale.json', webSale('WEB-1001', [{ itemID: 1, unitQuantity: 3, unitPrice: 17 }], 51));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const sale = r.body.Sale;
  assert.equal(sale.completed, 'true');
  assert.equal(sale.SaleLines.SaleLine.unitQuantity, '3');
  assert.equal(sale.SalePayments.SalePayment.amount, '51.00');
  const after = await stock(1);
  assert.equal(Number(after.rows['1'].qoh), Number(before.rows['1'].qoh) - 3);
  assert.equal(Number(after.rows['0'].qoh), Number(before.rows['0'].qoh) - 3);
  assert.equal(after.rows['2'].qoh, before.rows['2'].qoh);
  assert.ok(Date.parse(after.rows['1'].timeStamp) > Date.parse(before.rows['1'].timeStamp));
  assert.ok(Date.parse(after.rows['0'].timeStamp) > Date.parse(before.rows['0'].timeStamp));
  assert.equal(after.rows['2'].timeStamp, before.rows['2'].timeStamp);
  assert.equal(after.item.timeStamp, before.item.timeStamp, 'Item timeStamp unchanged by stock moves');
});

test('qoh can go negative', async () => {
  const before = await stock(4); // shop 1 has 0
  const r = await c.post('Sale.json', webSale('WEB-NEG', [{ itemID: 4, unitQuantity: 2, unitPrice: 15 }], 30));
  assert.equal(r.status, 200);
  assert.equal(Number((await stock(4)).rows['1'].qoh), Number(before.rows['1'].qoh) - 2);
});

test('lookup by referenceNumber; no idempotency: posting twice makes two sales', async () => {
  const none = await c.get('Sale.json?referenceNumber=WEB-404');
  assert.equal(none.body['@attributes'].count, '0');
  const one = await c.get('Sale.json?referenceNumber=WEB-1001');
  assert.equal(one.body.Sale.referenceNumber, 'WEB-1001');
  const again = await c.post('Sale.json', webSale('WEB-DUP', [{ itemID: 3, unitQuantity: 1, unitPrice: 12.5 }], 12.5));
  const again2 = await c.post('Sale.json', webSale('WEB-DUP', [{ itemID: 3, unitQuantity: 1, unitPrice: 12.5 }], 12.5));
  assert.notEqual(again.body.Sale.saleID, again2.body.Sale.saleID);
  assert.equal(asList((await c.get('Sale.json?referenceNumber=WEB-DUP')).body.Sale).length, 2);
  const withLines = await c.get(`Sale.json?referenceNumber=WEB-1001&load_relations=${enc('["SaleLines","SalePayments.PaymentType"]')}`);
  assert.equal(withLines.body.Sale.SalePayments.SalePayment.PaymentType.type, 'ecom');
});

test('invalid sales are refused: unknown item, shop, payment type, zero quantity', async () => {
  for (const body of [
    webSale('X', [{ itemID: 99999, unitQuantity: 1, unitPrice: 1 }], 1),
    { ...webSale('X', [{ itemID: 1, unitQuantity: 1, unitPrice: 1 }], 1), shopID: 9 },
    { ...webSale('X', [{ itemID: 1, unitQuantity: 1, unitPrice: 1 }], 1), SalePayments: { SalePayment: { paymentTypeID: 99, amount: 1 } } },
    webSale('X', [{ itemID: 1, unitQuantity: 0, unitPrice: 1 }], 0),
  ]) {
    const r = await c.post('Sale.json', body);
    assert.equal(r.status, 400, JSON.stringify(body));
  }
});

test('POST Sale/{id}/refund.json refunds everything and restocks', async () => {
  const sale = (await c.post('Sale.json', webSale('WEB-2001', [{ itemID: 2, unitQuantity: 1, unitPrice: 45 }, { itemID: 3, unitQuantity: 2, unitPrice: 12.5 }], 70))).body.Sale;
  const mid2 = await stock(2);
  const mid3 = await stock(3);
  const r = await c.post(`Sale/${sale.saleID}/refund.json`, { employeeID: 3, registerID: 1, shopID: 1, SalePayments: { SalePayment: { paymentTypeID: 7 } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const refund = r.body.Sale;
  assert.equal(refund.completed, 'true');
  assert.equal(refund.total, '-70.00');
  assert.equal(refund.SalePayments.SalePayment.amount, '-70.00');
  const lines = asList(refund.SaleLines.SaleLine);
  assert.ok(lines.every((l) => Number(l.unitQuantity) < 0 && l.parentSaleLineID !== '0'));
  assert.equal(Number((await stock(2)).rows['1'].qoh), Number(mid2.rows['1'].qoh) + 1);
  assert.equal(Number((await stock(3)).rows['0'].qoh), Number(mid3.rows['0'].qoh) + 2);
  const twice = await c.post(`Sale/${sale.saleID}/refund.json`, { SalePayments: { SalePayment: { paymentTypeID: 7 } } });
  assert.equal(twice.status, 400, 'nothing left to refund');
  assert.equal((await c.post(`Sale/${sale.saleID}/refund.json`, {})).status, 400);
});

test('partial return: a new sale with negative unitQuantity and parentSaleLineID restocks', async () => {
  const sale = (await c.post(`Sale.json?load_relations=${enc('["SaleLines"]')}`, webSale('WEB-3001', [{ itemID: 8, unitQuantity: 3, unitPrice: 22 }], 66))).body.Sale;
  const lineID = sale.SaleLines.SaleLine.saleLineID;
  const before = await stock(8);
  const ret = await c.post('Sale.json', webSale('WEB-3001-R1', [{ itemID: 8, unitQuantity: -2, unitPrice: 22, parentSaleLineID: lineID }], -44));
  assert.equal(ret.status, 200, JSON.stringify(ret.body));
  assert.equal(ret.body.Sale.SaleLines.SaleLine.parentSaleLineID, lineID);
  const after = await stock(8);
  assert.equal(Number(after.rows['1'].qoh), Number(before.rows['1'].qoh) + 2);
  assert.equal(Number(after.rows['0'].qoh), Number(before.rows['0'].qoh) + 2);
  // only 1 left to return
  const over = await c.post('Sale.json', webSale('WEB-3001-R2', [{ itemID: 8, unitQuantity: -2, unitPrice: 22, parentSaleLineID: lineID }], -44));
  assert.equal(over.status, 400);
  assert.match(over.body.message, /only 1 left/);
  const badParent = await c.post('Sale.json', webSale('WEB-3001-R3', [{ itemID: 8, unitQuantity: -1, unitPrice: 22, parentSaleLineID: 999999 }], -22));
  assert.equal(badParent.status, 400);
});

test('PUT completes an open sale (stock moves then); a completed sale refuses new lines', async () => {
  const open = (await c.post('Sale.json', { ...webSale('WEB-4001', [{ itemID: 9, unitQuantity: 1, unitPrice: 22 }], 22), completed: false })).body.Sale;
  const before = await stock(9);
  const done = await c.put(`Sale/${open.saleID}.json`, { completed: true });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.Sale.completed, 'true');
  assert.equal(Number((await stock(9)).rows['1'].qoh), Number(before.rows['1'].qoh) - 1);
  const more = await c.put(`Sale/${open.saleID}.json`, { SaleLines: { SaleLine: { itemID: 9, unitQuantity: 1 } } });
  assert.equal(more.status, 400);
});

test('SaleLine and SalePayment endpoints list by saleID', async () => {
  const sale = asList((await c.get('Sale.json?referenceNumber=WEB-1001')).body.Sale)[0];
  const lines = await c.get(`SaleLine.json?saleID=${sale.saleID}`);
  assert.equal(lines.body.SaleLine.itemID, '1');
  const pays = await c.get(`SalePayment.json?saleID=${sale.saleID}&load_relations=${enc('["PaymentType"]')}`);
  assert.equal(pays.body.SalePayment.PaymentType.name, 'ECom');
});

test('non_inventory items (docs: inventory not tracked) move no stock when sold or returned', async () => {
  const item = (await c.post('Item.json', { description: 'Shipping', itemType: 'non_inventory', tax: false })).body.Item;
  const before = (await stock(item.itemID)).rows;
  const sold = await c.post('Sale.json', webSale('WEB-NI-1', [{ itemID: item.itemID, unitQuantity: 1, unitPrice: 5 }], 5));
  assert.equal(sold.status, 200);
  const money = await c.post('Sale.json', webSale('WEB-NI-1-R1', [{ itemID: item.itemID, unitQuantity: -1, unitPrice: 3 }], -3));
  assert.equal(money.status, 200);
  assert.equal(money.body.Sale.total, '-3.00');
  assert.deepEqual((await stock(item.itemID)).rows, before);
});
