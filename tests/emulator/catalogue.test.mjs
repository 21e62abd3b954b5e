// Writes: Item create / partial update / DELETE (archive + zero stock);
// Customer search by e-mail and create with nested Contact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc, asList } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
});
after(() => c.close());

test('POST Item creates with prices, ecommerce, stock; answers in wire shape', async () => {
  const r = await c.post('Item.json', {
    description: 'Test Beanie',
    customSku: 'BEANIE-1',
    categoryID: 2,
    publishToEcom: true,
    Prices: { ItemPrice: [{ amount: '20', useType: 'Default' }, { amount: 18.5, useTypeID: 3 }] },
    ItemECommerce: { longDescription: '<p>Warm</p>', weight: 0.1 },
    ItemShops: { ItemShop: [{ shopID: 1, qoh: 4 }, { shopID: 2, qoh: 1 }] },
    Tags: { tag: ['winter'] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const item = r.body.Item;
  assert.match(item.itemID, /^\d+$/);
  assert.equal(item.systemSku, `21${item.itemID.padStart(10, '0')}`);
  assert.equal(item.Prices.ItemPrice.find((p) => p.useType === 'Online').amount, '18.50');
  const full = (await c.get(`Item/${item.itemID}.json?load_relations=${enc('["ItemShops","ItemECommerce","TagRelations.Tag"]')}`)).body.Item;
  const rows = Object.fromEntries(asList(full.ItemShops.ItemShop).map((s) => [s.shopID, s.qoh]));
  assert.deepEqual(rows, { 1: '4', 2: '1', 0: '5' });
  assert.equal(full.ItemECommerce.weight, '0.1');
  assert.equal(full.TagRelations.TagRelation.Tag.name, 'winter');
  assert.equal((await c.post('Item.json', { description: 'x', categoryID: 999 })).status, 400);
});

test('PUT Item is a partial update and bumps the Item timeStamp', async () => {
  const before = (await c.get('Item/3.json')).body.Item;
  await c.control('POST', 'clock', { advance_s: 2 });
  const r = await c.put('Item/3.json', { description: 'Harbour Mug XL', Prices: { ItemPrice: { useType: 'Online', amount: 13 } } });
  assert.equal(r.status, 200);
  const after = r.body.Item;
  assert.equal(after.description, 'Harbour Mug XL');
  assert.equal(after.customSku, before.customSku, 'untouched fields kept');
  assert.equal(after.Prices.ItemPrice.find((p) => p.useType === 'Default').amount, '12.50');
  assert.equal(after.Prices.ItemPrice.find((p) => p.useType === 'Online').amount, '13.00');
  assert.ok(Date.parse(after.timeStamp) > Date.parse(before.timeStamp));
});

test('DELETE Item archives it and zeroes its stock in every shop', async () => {
  const r = await c.del('Item/5.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.Item.archived, 'true');
  const item = (await c.get(`Item/5.json?load_relations=${enc('["ItemShops"]')}`)).body.Item;
  assert.ok(asList(item.ItemShops.ItemShop).every((s) => s.qoh === '0'));
  const listed = asList((await c.get('Item.json?itemID=5')).body.Item);
  assert.equal(listed.length, 0, 'hidden by default');
  assert.equal(asList((await c.get('Item.json?itemID=5&archived=true')).body.Item).length, 1);
});

test('read-only endpoints refuse writes with 405', async () => {
  assert.equal((await c.post('ItemShop.json', {})).status, 405);
  assert.equal((await c.put('Image/1.json', {})).status, 405);
});

test('Customer by Contact.email (case-insensitive) with load_relations Contact', async () => {
  const q = (email) => c.get(`Customer.json?load_relations=${enc('["Contact"]')}&Contact.email=${enc(email)}`);
  const jane = await q('Jane.Doe@Example.com');
  assert.equal(jane.body['@attributes'].count, '1');
  assert.equal(jane.body.Customer.firstName, 'Jane');
  assert.equal(jane.body.Customer.Contact.Emails.ContactEmail.address, 'jane.doe@example.com');
  const none = await q('nobody@example.com');
  assert.deepEqual(Object.keys(none.body), ['@attributes']);
  assert.equal((await c.get(`Customer.json?Contact.email=${enc('jane.doe@example.com')}`)).status, 400, 'relation must be loaded');
  const like = await c.get(`Customer.json?load_relations=${enc('["Contact"]')}&Contact.email=${enc('~,%@example.org')}`);
  assert.equal(like.body.Customer.lastName, 'Haddad');
});

test('Customer create with nested Contact Emails/Phones/Addresses, then found by e-mail', async () => {
  const r = await c.post('Customer.json', {
    firstName: 'Web',
    lastName: 'Buyer',
    Contact: {
      Emails: { ContactEmail: { address: 'buyer@shop.test', useType: 'Primary' } },
      Phones: { ContactPhone: [{ number: '555-1', useType: 'Home' }, { number: '555-2', useType: 'Mobile' }] },
      Addresses: { ContactAddress: { address1: '2 Side St', city: 'Springfield', state: 'IL', zip: '62701', country: 'United States' } },
    },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const id = r.body.Customer.customerID;
  const found = await c.get(`Customer.json?load_relations=${enc('["Contact"]')}&Contact.email=${enc('BUYER@shop.test')}`);
  assert.equal(found.body.Customer.customerID, id);
  assert.equal(found.body.Customer.Contact.Phones.ContactPhone.length, 2);
  assert.equal(found.body.Customer.Contact.Addresses.ContactAddress.city, 'Springfield');
  assert.equal(found.body.Customer.Contact.Websites, '');
  assert.equal((await c.post('Customer.json', { Contact: {} })).status, 400);
  // changing the e-mail moves the index
  await c.put(`Customer/${id}.json`, { Contact: { Emails: { ContactEmail: { address: 'new@shop.test' } } } });
  const old = await c.get(`Customer.json?load_relations=${enc('["Contact"]')}&Contact.email=${enc('buyer@shop.test')}`);
  assert.equal(old.body['@attributes'].count, '0');
  const moved = await c.get(`Customer.json?load_relations=${enc('["Contact"]')}&Contact.email=${enc('new@shop.test')}`);
  assert.equal(moved.body.Customer.customerID, id);
});
