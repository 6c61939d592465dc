using BillingConsole.Domain.Ledger;

namespace BillingConsole.Domain.Invoicing;

/// <summary>An invoice as issued, with the ledger entries that record it.</summary>
public sealed record IssuedInvoice(Invoice Invoice, IReadOnlyList<LedgerEntry> LedgerEntries);
