// Answer shapes: strings everywhere, one element = object, empty = only
// @attributes, empty nested = "", error bodies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { boot, enc, asList, allScalarsAreStrings } from './helpers.mjs';

let c;
before(async () => {
  c = await boot({ rateLimit: false });
});
after(() => c.close());

test('every scalar in answers is a string, ids included; "0" foreign key means none', async () => {
  const r = await c.get(`Item.json?load_relations=all`);
  assert.equal(r.status, 200);
  assert.deepEqual(allScalarsAreStrings(r.body), []);
  const tote = asList(r.body.Item).find((i) => i.customSku === 'TOTE-01');
  assert.equal(typeof tote.itemID, 'string');
  assert.equal(tote.itemMatrixID, '0');
  assert.equal(tote.publishToEcom, 'false');
  assert.match(tote.Prices.ItemPrice[0].amount, /^\d+\.\d\d$/);
  assert.match(tote.timeStamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
});

test('a collection with ONE element is an object, with several an array', async () => {
  const one = await c.get('Item.json?customSku=TEE-WHT');
  assert.equal(one.body['@attributes'].count, '1');
  assert.equal(Array.isArray(one.body.Item), false);
  assert.equal(one.body.Item.customSku, 'TEE-WHT');
  const many = await c.get('Item.json?limit=3');
  assert.ok(Array.isArray(many.body.Item));
  assert.equal(many.body.Item.length, 3);
  // nested too: an item with one image has Images.Image as an object
  const hoodie = await c.get(`Item.json?customSku=HOOD-LOGO&load_relations=${enc('["Images","ItemShops"]')}`);
  assert.equal(Array.isArray(hoodie.body.Item.Images.Image), false);
  assert.ok(Array.isArray(hoodie.body.Item.ItemShops.ItemShop));
});

test('an empty result has only @attributes with count "0" and no entity key', async () => {
  const r = await c.get('Item.json?customSku=NOPE');
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body), ['@attributes']);
  assert.equal(r.body['@attributes'].count, '0');
  assert.equal(r.body['@attributes'].next, '');
  assert.equal(r.body['@attributes'].previous, '');
});

test('an empty nested relation is the empty string', async () => {
  const r = await c.get(`Item.json?customSku=TOTE-01&load_relations=${enc('["Images","TagRelations"]')}`);
  assert.equal(r.body.Item.Images, '');
  assert.equal(r.body.Item.TagRelations, '');
});

test('single GET has @attributes count "1"; unknown id is a 404 error body', async () => {
  const r = await c.get('Item/1.json');
  assert.deepEqual(r.body['@attributes'], { count: '1' });
  assert.equal(r.body.Item.itemID, '1');
  const missing = await c.get('Item/99999.json');
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.body).sort(), ['errorClass', 'httpCode', 'httpMessage', 'message']);
  assert.equal(missing.body.httpCode, '404');
  assert.equal(missing.body.httpMessage, 'Not Found');
});

test('errors: {"httpCode":"400","httpMessage":"Bad Request",message,errorClass}', async () => {
  const r = await c.post('Item.json', { description: '' });
  assert.equal(r.status, 400);
  assert.equal(r.body.httpCode, '400');
  assert.equal(r.body.httpMessage, 'Bad Request');
  assert.match(r.body.message, /must have a description/);
  assert.equal(typeof r.body.errorClass, 'string');
  const bad = await c.post('Item.json', '{not json');
  assert.equal(bad.status, 400);
  const noJson = await c.get(`${c.base}/Item`);
  assert.equal(noJson.status, 400);
  const unknown = await c.get('Widget.json');
  assert.equal(unknown.status, 404);
});

test('Account.json lists the account; a token cannot read another account', async () => {
  const r = await c.get('/API/V3/Account.json');
  assert.equal(r.body.Account.accountID, '1');
  const other = await c.get(`${c.emu.apiBase}/Account/2/Item.json`);
  assert.equal(other.status, 403);
});

test('demo catalogue: categories, matrix, archived, web flags, html, skus, images, stock rows', async () => {
  const cats = asList((await c.get('Category.json')).body.Category);
  const byName = Object.fromEntries(cats.map((x) => [x.name, x]));
  assert.equal(byName['T-Shirts'].fullPathName, 'Apparel/T-Shirts');
  assert.equal(byName['T-Shirts'].parentID, byName.Apparel.categoryID);
  assert.equal(byName.Mugs.nodeDepth, '1');
  assert.ok(Number(byName.Apparel.leftNode) < Number(byName['T-Shirts'].leftNode));

  const items = asList((await c.get(`Item.json?archived=true&load_relations=${enc('["ItemShops","ItemECommerce","Images","ItemAttributes"]')}`)).body.Item);
  assert.ok(items.filter((i) => i.itemMatrixID === '0').length >= 5);
  const variants = items.filter((i) => i.itemMatrixID !== '0');
  assert.equal(variants.length, 6);
  assert.deepEqual(new Set(variants.map((v) => v.ItemAttributes.attribute1)), new Set(['S', 'M', 'L']));
  assert.deepEqual(new Set(variants.map((v) => v.ItemAttributes.attribute2)), new Set(['Black', 'Navy']));
  assert.ok(variants.every((v) => v.Images !== ''), 'variation images');
  assert.ok(items.some((i) => i.archived === 'true'));
  assert.ok(items.some((i) => i.publishToEcom === 'false'));
  assert.ok(items.some((i) => i.ItemECommerce?.longDescription.includes('<script>')));
  const noCustom = items.filter((i) => i.customSku === '');
  assert.equal(noCustom.length, 1);
  assert.match(noCustom[0].systemSku, /^\d{12}$/);
  for (const i of items) {
    const shops = asList(i.ItemShops.ItemShop).map((s) => s.shopID).sort();
    assert.deepEqual(shops, ['0', '1', '2']);
    const total = asList(i.ItemShops.ItemShop).find((s) => s.shopID === '0');
    const sum = asList(i.ItemShops.ItemShop).filter((s) => s.shopID !== '0').reduce((a, s) => a + Number(s.qoh), 0);
    assert.equal(Number(total.qoh), sum);
  }
  const ecom = items.find((i) => i.customSku === 'TEE-WHT');
  assert.equal(ecom.ItemECommerce.weight, '0.2');
  const prices = Object.fromEntries(ecom.Prices.ItemPrice.map((p) => [p.useType, p.amount]));
  assert.deepEqual(prices, { Default: '19.00', MSRP: '22.00', Online: '17.00' });

  const set = (await c.get('ItemAttributeSet/1.json')).body.ItemAttributeSet;
  assert.equal(set.attributeName1, 'Size');
  assert.equal(set.attributeName2, 'Colour');
  const shops = asList((await c.get('Shop.json')).body.Shop).map((s) => s.name);
  assert.deepEqual(shops, ['Main Street', 'Harbour']);
  const pts = asList((await c.get('PaymentType.json')).body.PaymentType);
  const reserved = pts.filter((p) => p.internalReserved === 'true').map((p) => p.type);
  for (const t of ['cash', 'credit card', 'gift card', 'credit account', 'ecom', 'adjustment']) assert.ok(reserved.includes(t), t);
  assert.ok(asList((await c.get('Register.json')).body.Register).length >= 2);
  assert.ok(asList((await c.get('Employee.json')).body.Employee).length >= 2);
  assert.ok(asList((await c.get('Tag.json')).body.Tag).length >= 1);
});

test('tax classes: listed, loadable on an item, and an unknown taxClassID is refused', async () => {
  const classes = asList((await c.get('TaxClass.json')).body.TaxClass);
  assert.deepEqual(
    classes.map((t) => [t.taxClassID, t.name, t.classType]),
    [
      ['1', 'Item', 'item'],
      ['2', 'Labor', 'workorder'],
      ['3', 'Reduced rate', 'item'],
    ],
  );
  const items = asList((await c.get(`Item.json?load_relations=${encodeURIComponent('["TaxClass"]')}`)).body.Item);
  const mug = items.find((i) => i.customSku === 'MUG-HARB');
  assert.equal(mug.taxClassID, '3');
  assert.equal(mug.TaxClass.name, 'Reduced rate');
  assert.equal(mug.tax, 'true');
  const camp = items.find((i) => i.description === 'Enamel Camp Mug');
  assert.equal(camp.tax, 'false');
  const bad = await c.put(`Item/${mug.itemID}.json`, { taxClassID: 99 });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /taxClassID 99/);
});

test('images are served as real PNG / JPEG bytes at baseImageURL + publicID', async () => {
  const imgs = asList((await c.get('Image.json')).body.Image);
  const png = imgs.find((i) => i.filename.endsWith('.png'));
  const jpg = imgs.find((i) => i.filename.endsWith('.jpg'));
  for (const [img, type, magic] of [
    [png, 'image/png', [0x89, 0x50, 0x4e, 0x47]],
    [jpg, 'image/jpeg', [0xff, 0xd8, 0xff]],
  ]) {
    assert.ok(img.baseImageURL.startsWith(c.emu.url));
    for (const url of [img.baseImageURL + img.publicID, `${img.baseImageURL}w_300/${img.publicID}.${type === 'image/png' ? 'png' : 'jpg'}`]) {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), type);
      const bytes = new Uint8Array(await res.arrayBuffer());
      assert.deepEqual([...bytes.slice(0, magic.length)], magic);
    }
  }
  const jpegBytes = new Uint8Array(await (await fetch(jpg.baseImageURL + jpg.publicID)).arrayBuffer());
  assert.deepEqual([...jpegBytes.slice(-2)], [0xff, 0xd9]);
  assert.equal((await fetch(`${c.emu.url}/images/nope`)).status, 404);
});
