using BillingConsole.Domain.Common;
using BillingConsole.Domain.Tax;

namespace BillingConsole.Domain.Customers;

/// <summary>
/// How the customer's invoices are paid: charged to their default payment method (after a short delay, see
/// Engine.Payments.AutoCollector), or sent to them to pay by their due date and never charged by the system.
/// </summary>
public enum CollectionMethod { ChargeAutomatically, SendInvoice }

public sealed class Customer : Entity
{
    private readonly List<PaymentMethod> _paymentMethods = [];
    private decimal _creditBalance;

    private Customer() { }

    public Customer(string name, string email, string currency, CustomerAddress address, DateTimeOffset createdAt, string? externalRef = null,
        string? timeZone = null, string? taxId = null)
    {
        Rename(name, email);
        Currency = Currencies.Normalize(currency);
        Address = address;
        ChangeExternalRef(externalRef);
        ChangeTimeZone(timeZone);
        ChangeTaxId(taxId);
        CreatedAt = createdAt;
    }

    public string Name { get; private set; } = string.Empty;
    public string Email { get; private set; } = string.Empty;
    public string Currency { get; private set; } = "USD";
    public string? ExternalRef { get; private set; }
    /// <summary>The customer's VAT or other tax registration number, printed on their invoices; null when they have none.</summary>
    public string? TaxId { get; private set; }
    public CustomerAddress Address { get; private set; } = CustomerAddress.Empty;
    public DateTimeOffset CreatedAt { get; private set; }
    /// <summary>
    /// The customer's IANA time zone, in which payment retries are planned; null for the billing time zone.
    /// </summary>
    public string? TimeZone { get; private set; }
    /// <summary>
    /// The test clock the customer lives on (a test customer, charged only through the sandbox and acted on only when the
    /// clock is advanced); null for a real customer.
    /// </summary>
    public Guid? TestClockId { get; private set; }
    /// <summary>Support can pause dunning for a customer (e.g. while a dispute is sorted out).</summary>
    public bool DunningPaused { get; private set; }
    public CollectionMethod CollectionMethod { get; private set; } = CollectionMethod.ChargeAutomatically;
    /// <summary>How many days after it is issued a send_invoice customer's invoice is due; null when charged automatically.</summary>
    public int? DaysUntilDue { get; private set; }

    /// <summary>The longest payment term a sent invoice may have.</summary>
    public const int MaxDaysUntilDue = 365;

    /// <summary>Money the business owes the customer, applied to their next invoices. Mirrors the ledger's customer_credit account.</summary>
    public Money CreditBalance => new(_creditBalance, Currency);

    public IReadOnlyCollection<PaymentMethod> PaymentMethods => _paymentMethods.AsReadOnly();

    public PaymentMethod? DefaultPaymentMethod => _paymentMethods.FirstOrDefault(p => p.IsDefault && p.DetachedAt is null);

    public void Rename(string name, string email)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new DomainRuleException("A customer needs a name.");
        if (string.IsNullOrWhiteSpace(email) || !email.Contains('@')) throw new DomainRuleException("A customer needs a valid email address.");
        Name = name.Trim();
        Email = email.Trim();
    }

    public void ChangeAddress(CustomerAddress address) => Address = address;

    /// <summary>Makes the customer a test customer of <paramref name="clockId"/>, for good.</summary>
    public void PutOnTestClock(Guid clockId)
    {
        if (TestClockId is not null) throw new DomainRuleException("The customer is on a test clock already.");
        TestClockId = clockId;
    }

    /// <summary>Sets the customer's time zone; null or blank returns them to the billing time zone.</summary>
    public void ChangeTimeZone(string? timeZoneId)
    {
        if (string.IsNullOrWhiteSpace(timeZoneId))
        {
            TimeZone = null;
            return;
        }
        var id = timeZoneId.Trim();
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone)) throw new DomainRuleException($"'{id}' is not a known time zone.");
        // Stored as an IANA id, which PostgreSQL understands too (the recovery history reads local hours with it).
        string? ianaId = zone.Id;
        if (!zone.HasIanaId && !TimeZoneInfo.TryConvertWindowsIdToIanaId(zone.Id, out ianaId))
            throw new DomainRuleException($"'{id}' has no IANA time zone id.");
        TimeZone = ianaId;
    }

    public const int MaxTaxIdLength = 32;

    /// <summary>Null or blank removes it. Letters are kept in capitals, as tax authorities print them ("DE123456789").</summary>
    public void ChangeTaxId(string? taxId)
    {
        if (string.IsNullOrWhiteSpace(taxId))
        {
            TaxId = null;
            return;
        }
        if (TaxIdProblem(taxId) is { } problem) throw new DomainRuleException(problem);
        TaxId = taxId.Trim().ToUpperInvariant();
    }

    /// <summary>Why this is not a tax number the invoice can print, or null when it is (shared with the commands' validators).</summary>
    public static string? TaxIdProblem(string taxId)
    {
        var value = taxId.Trim();
        if (value.Length > MaxTaxIdLength) return $"A tax number has at most {MaxTaxIdLength} characters.";
        return value.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '.' or '/')
            ? VatNumbers.Problem(value)
            : "A tax number has only letters, digits, spaces, dashes, dots and slashes.";
    }

    public void ChangeExternalRef(string? externalRef) => ExternalRef = string.IsNullOrWhiteSpace(externalRef) ? null : externalRef.Trim();

    /// <summary>
    /// Only before anything was billed: a credit balance is held in the old currency. The caller checks that the customer
    /// has no subscriptions or invoices, which this aggregate cannot see.
    /// </summary>
    public void ChangeCurrency(string currency)
    {
        var code = Currencies.Normalize(currency);
        if (code == Currency) return;
        if (!CreditBalance.IsZero) throw new DomainRuleException("The currency cannot change while the customer holds credit.");
        Currency = code;
    }

    public PaymentMethod AttachPaymentMethod(string gateway, string token, string brand, string last4, int expMonth, int expYear, DateTimeOffset at)
    {
        foreach (var existing in _paymentMethods) existing.ClearDefault();
        var method = new PaymentMethod(Id, gateway, token, brand, last4, expMonth, expYear, at);
        _paymentMethods.Add(method);
        return method;
    }

    public void AddCredit(Money amount)
    {
        if (amount.IsNegative) throw new DomainRuleException("Credit added must not be negative.");
        _creditBalance = (CreditBalance + amount).Amount;
    }

    public void UseCredit(Money amount)
    {
        if (amount.IsNegative || amount > CreditBalance) throw new DomainRuleException("Cannot use more credit than the customer has.");
        _creditBalance = (CreditBalance - amount).Amount;
    }

    /// <summary>Sent invoices need a payment term; charged ones are due when issued (the configured terms) and take none.</summary>
    public void ChangeCollectionMethod(CollectionMethod method, int? daysUntilDue)
    {
        if (method == CollectionMethod.SendInvoice && daysUntilDue is not (>= 0 and <= MaxDaysUntilDue))
            throw new DomainRuleException($"Sending invoices needs the days until they are due, from 0 to {MaxDaysUntilDue}.");
        if (method == CollectionMethod.ChargeAutomatically && daysUntilDue is not null)
            throw new DomainRuleException("Days until due apply only to sent invoices; charged invoices follow the billing payment terms.");
        CollectionMethod = method;
        DaysUntilDue = daysUntilDue;
    }

    public void PauseDunning() => DunningPaused = true;
    public void ResumeDunning() => DunningPaused = false;
}

/// <param name="Region">The subdivision whose tax rate applies where a country taxes by region (a Canadian province: QC); else null.</param>
public sealed record CustomerAddress(string Line1, string? Line2, string City, string PostalCode, string Country, string? Region = null)
{
    public static readonly CustomerAddress Empty = new(string.Empty, null, string.Empty, string.Empty, string.Empty);
}
