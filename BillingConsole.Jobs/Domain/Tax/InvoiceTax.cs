namespace BillingConsole.Domain.Tax;

/// <summary>
/// The tax one customer's invoice lines follow: the tax table in force, the customer as a tax payer and the fallback rate,
/// resolved line by line at the start of each line's period.
/// </summary>
public sealed class InvoiceTax
{
    private readonly TaxTable _table;
    private readonly TaxPayer _payer;
    private readonly decimal _fallbackRate;

    public InvoiceTax(TaxTable table, TaxPayer payer, decimal fallbackRate)
    {
        if (fallbackRate is < 0m or > 1m) throw new ArgumentOutOfRangeException(nameof(fallbackRate), fallbackRate, "A tax rate is between 0 and 1.");
        _table = table;
        _payer = payer;
        _fallbackRate = fallbackRate;
    }

    /// <summary>One rate for every line, whoever the customer is.</summary>
    public static InvoiceTax Flat(decimal rate) => new(TaxTable.Empty, new TaxPayer(string.Empty, null, null), rate);

    public static readonly InvoiceTax None = Flat(0m);

    /// <summary>Where the customer is taxed, kept on each line so that the tax report follows the invoice, not a later address.</summary>
    public TaxPayer Payer => _payer;

    public LineTax At(DateTimeOffset lineStart) => _table.For(_payer, DateOnly.FromDateTime(lineStart.UtcDateTime), _fallbackRate);
}
