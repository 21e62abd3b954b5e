// Customer with its Contact (Emails / Phones / Addresses). Found by e-mail with
// Customer.json?load_relations=["Contact"]&Contact.email=… (served from an
// e-mail index, case-insensitive).
import { badRequest, nestedCollection, payloadList, wireValue } from './wire.mjs';
import { applyFields, defaultsFor } from './resource.mjs';

const ADDRESS_FIELDS = ['address1', 'address2', 'city', 'state', 'zip', 'country', 'countryCode', 'stateCode'];

export const contact = {
  name: 'Contact',
  idField: 'contactID',
  fields: [
    ['contactID', 'id'],
    ['custom', 'str'],
    ['noEmail', 'bool'],
    ['noPhone', 'bool'],
    ['noMail', 'bool'],
    ['timeStamp', 'ts'],
  ],
  embed(state, row, out) {
    const str = (o, keys) => Object.fromEntries(keys.map((k) => [k, wireValue(o[k], 'str')]));
    // Quirk: empty collections here are "" (recorded real answers).
    out.Addresses = nestedCollection('ContactAddress', row.addresses.map((a) => str(a, ADDRESS_FIELDS)));
    out.Phones = nestedCollection('ContactPhone', row.phones.map((p) => str(p, ['number', 'useType'])));
    out.Emails = nestedCollection('ContactEmail', row.emails.map((e) => str(e, ['address', 'useType'])));
    out.Websites = nestedCollection('ContactWebsite', row.websites.map((w) => str(w, ['url'])));
  },
  filterFields: {
    email: { type: 'str', get: (st, row) => row.emails.map((e) => e.address) },
    phone: { type: 'str', get: (st, row) => row.phones.map((p) => p.number) },
    zip: { type: 'str', get: (st, row) => row.addresses.map((a) => a.zip) },
  },
  relations: {},
};

const def = {
  name: 'Customer',
  table: 'customers',
  idField: 'customerID',
  fields: [
    ['customerID', 'id'],
    ['firstName', 'str'],
    ['lastName', 'str'],
    ['dob', 'ts'],
    ['archived', 'bool'],
    ['title', 'str'],
    ['company', 'str'],
    ['companyRegistrationNumber', 'str'],
    ['vatNumber', 'str'],
    ['createTime', 'ts'],
    ['timeStamp', 'ts'],
    ['contactID', 'id'],
    ['creditAccountID', 'id'],
    ['customerTypeID', 'id'],
    ['discountID', 'id'],
    ['taxCategoryID', 'id'],
  ],
  sortable: ['customerID', 'timeStamp', 'firstName', 'lastName', 'createTime'],
  archivable: true,
  relations: {
    Contact: { many: false, entity: 'Contact', rows: (st, row) => row.contact },
  },
  candidates(state, f) {
    if (f.relation === 'Contact' && f.field === 'email' && f.op === '=') {
      const ids = state.emailIndex.get(String(f.values[0]).toLowerCase()) ?? new Set();
      return [...ids].map((id) => state.tables.customers.get(id)).filter(Boolean);
    }
    if (!f.relation && f.field === 'customerID' && (f.op === '=' || f.op === 'IN')) {
      return f.values.map((id) => state.tables.customers.get(Number(id))).filter(Boolean);
    }
    return null;
  },
  create(state, body) {
    if (!body || typeof body !== 'object') throw badRequest('Customer not created. Invalid payload.');
    if (!body.firstName && !body.lastName && !body.company) throw badRequest('Customer not created. A Customer must have a first name, last name or company.');
    const row = applyFields(def, defaultsFor(def), body, { skip: ['contactID'] });
    const now = state.now();
    row.createTime = now;
    row.timeStamp = now;
    row.contact = newContact(state);
    row.contactID = row.contact.contactID;
    applyContact(row.contact, body.Contact, now);
    state.tables.customers.insert(row);
    state.indexCustomerEmails(row);
    return row;
  },
  update(state, row, body) {
    applyFields(def, row, body, { skip: ['contactID', 'archived'] });
    if ('archived' in body) state.tables.customers.setArchived(row, String(body.archived) === 'true' || body.archived === true);
    const now = state.now();
    if (body.Contact !== undefined) {
      applyContact(row.contact, body.Contact, now);
      state.indexCustomerEmails(row);
    }
    state.tables.customers.setTimestamp(row, now);
    return row;
  },
  remove(state, row) {
    state.tables.customers.setArchived(row, true);
    state.tables.customers.setTimestamp(row, state.now());
    return row;
  },
};
export default def;

export function newContact(state) {
  return { contactID: state.nextContactId++, custom: '', noEmail: false, noPhone: false, noMail: false, timeStamp: state.now(), addresses: [], phones: [], emails: [], websites: [] };
}

// Nested writes: each sub-collection sent replaces the stored one.
export function applyContact(c, body, now) {
  if (!body || typeof body !== 'object') return;
  for (const k of ['custom']) if (k in body) c[k] = String(body[k]);
  for (const k of ['noEmail', 'noPhone', 'noMail']) if (k in body) c[k] = String(body[k]) === 'true' || body[k] === true;
  if (body.Emails !== undefined) {
    c.emails = payloadList(body.Emails, 'ContactEmail').map((e) => {
      const address = String(e.address ?? '').trim();
      if (!address.includes('@')) throw badRequest(`Invalid e-mail address '${address}'.`);
      return { address, useType: String(e.useType ?? 'Primary') };
    });
  }
  if (body.Phones !== undefined) {
    c.phones = payloadList(body.Phones, 'ContactPhone').map((p) => ({ number: String(p.number ?? ''), useType: String(p.useType ?? 'Home') }));
  }
  if (body.Addresses !== undefined) {
    c.addresses = payloadList(body.Addresses, 'ContactAddress').map((a) => Object.fromEntries(ADDRESS_FIELDS.map((k) => [k, String(a[k] ?? '')])));
  }
  if (body.Websites !== undefined) c.websites = payloadList(body.Websites, 'ContactWebsite').map((w) => ({ url: String(w.url ?? '') }));
  c.timeStamp = now;
}
