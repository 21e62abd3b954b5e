// PaymentType: the reserved (internalReserved "true") types are cash, credit
// card, gift card, credit account, ecom and adjustment (docs: Defined Values).
import { badRequest } from './wire.mjs';
import { plainWrites } from './resource.mjs';

export const RESERVED_PAYMENT_TYPES = [
  { name: 'Cash', type: 'cash', refundAsPaymentTypeID: 0 },
  { name: 'Check', type: 'user defined', refundAsPaymentTypeID: 0, internalReserved: false },
  { name: 'Credit Card', type: 'credit card', refundAsPaymentTypeID: 0 },
  { name: 'Credit Account', type: 'credit account', refundAsPaymentTypeID: 4 },
  { name: 'Gift Card', type: 'gift card', refundAsPaymentTypeID: 0 },
  { name: 'Debit Card', type: 'user defined', refundAsPaymentTypeID: 0, internalReserved: false },
  { name: 'ECom', type: 'ecom', refundAsPaymentTypeID: 0 },
  { name: 'Adjustment', type: 'adjustment', refundAsPaymentTypeID: 0 },
];

const def = {
  name: 'PaymentType',
  table: 'paymentTypes',
  idField: 'paymentTypeID',
  fields: [
    ['paymentTypeID', 'id'],
    ['name', 'str'],
    ['requireCustomer', 'bool'],
    ['archived', 'bool'],
    ['internalReserved', 'bool'],
    ['type', 'str'],
    ['refundAsPaymentTypeID', 'id'],
  ],
  sortable: ['paymentTypeID'],
  archivable: true,
  relations: {},
};
const writes = plainWrites(def, { required: ['name'] });
def.create = (state, body) => {
  const row = writes.create(state, { ...body, internalReserved: false });
  if (!['cash', 'credit card', 'gift card', 'credit account', 'user defined'].includes(row.type)) row.type = 'user defined';
  return row;
};
def.update = (state, row, body) => {
  // Reserved types cannot be changed.
  if (row.internalReserved) throw badRequest(`PaymentType ${row.paymentTypeID} is reserved and cannot be changed.`);
  return writes.update(state, row, body);
};
def.remove = (state, row) => {
  if (row.internalReserved) throw badRequest(`PaymentType ${row.paymentTypeID} is reserved and cannot be archived.`);
  return writes.remove(state, row);
};
export default def;
