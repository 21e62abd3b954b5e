// SalePayment: money taken (or refunded, negative) on a sale.
const def = {
  name: 'SalePayment',
  table: 'salePayments',
  idField: 'salePaymentID',
  fields: [
    ['salePaymentID', 'id'],
    ['amount', 'money'],
    ['tipAmount', 'money'],
    ['createTime', 'ts'],
    ['archived', 'bool'],
    ['remoteReference', 'str'],
    ['paymentID', 'str'],
    ['saleID', 'id'],
    ['paymentTypeID', 'id'],
    ['ccChargeID', 'id'],
    ['refPaymentID', 'id'],
    ['registerID', 'id'],
    ['employeeID', 'id'],
    ['creditAccountID', 'id'],
  ],
  sortable: ['salePaymentID'],
  relations: {
    PaymentType: { many: false, entity: 'PaymentType', rows: (st, row) => st.tables.paymentTypes.get(row.paymentTypeID) },
  },
  readOnly: true,
};
export default def;
