using System.Globalization;
using BillingConsole.Configuration;
using BillingConsole.Domain.Common;
using BillingConsole.Domain.Customers;
using BillingConsole.Domain.Tax;
using BillingConsole.Persistence;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BillingConsole.Engine.Commands;

/// <summary>A rule as typed on the Settings → Tax page or sent to the API: the rate in percent.</summary>
public sealed record TaxRuleInput(string? Country, string? Region, decimal? RatePercent, DateOnly? From)
{
    public TaxRule ToRule() => new(Country!.Trim().ToUpperInvariant(),
        string.IsNullOrWhiteSpace(Region) ? null : Region.Trim().ToUpperInvariant(), RatePercent!.Value / 100m, From!.Value);

    public static TaxRuleInput Of(TaxRule rule) => new(rule.Country, rule.Region, rule.Rate * 100m, rule.From);
}

/// <summary>The whole table as it is to be in force from now on, and why it changes.</summary>
public sealed record SaveTaxTable(string? SellerCountry, IReadOnlyList<TaxRuleInput> Rules, string? Reason);

/// <summary>A stored table version as the settings page lists it.</summary>
public sealed record TaxTableVersionView(int Version, TaxTable Table, string CreatedBy, string Reason, DateTimeOffset CreatedAt);

public sealed class SaveTaxTableValidator : AbstractValidator<SaveTaxTable>
{
    public SaveTaxTableValidator()
    {
        RuleFor(t => t.SellerCountry).NotEmpty().WithMessage("Give the seller's country: it decides which customers are reverse-charged.")
            .Matches("^[A-Za-z]{2}$").WithMessage("The seller's country is a two-letter ISO 3166 code, e.g. DE.");
        RuleForEach(t => t.Rules).ChildRules(rule =>
        {
            rule.RuleFor(r => r.Country).NotEmpty().WithMessage("Each rule needs a country.")
                .Matches("^[A-Za-z]{2}$").WithMessage("The country is a two-letter ISO 3166 code, e.g. DE.");
            rule.RuleFor(r => r.Region).Matches("^[A-Za-z0-9]{1,10}$").WithMessage("The region is a code of 1 to 10 letters or digits, e.g. QC.")
                .When(r => !string.IsNullOrWhiteSpace(r.Region));
            rule.RuleFor(r => r.RatePercent).NotNull().WithMessage("Each rule needs a rate (0 for none).")
                .InclusiveBetween(0m, 100m).WithMessage("A tax rate is a percentage between 0 and 100.");
            rule.RuleFor(r => r.From).NotNull().WithMessage("Each rule needs the date it applies from.");
        });
        RuleFor(t => t.Rules).Must(NoTwoRulesForTheSamePlaceAndDay)
            .WithMessage("Two rules for the same country and region start on the same day: keep one, or give the new one a later date.");
        RuleFor(t => t.Reason).NotEmpty().WithMessage("Say why the tax rules change: the audit log keeps it.").MaximumLength(1000);
    }

    private static bool NoTwoRulesForTheSamePlaceAndDay(IReadOnlyList<TaxRuleInput> rules) =>
        rules.Where(r => r.Country is not null && r.From is not null)
            .GroupBy(r => (Country: r.Country!.Trim().ToUpperInvariant(), Region: r.Region?.Trim().ToUpperInvariant() ?? "", r.From))
            .All(g => g.Count() == 1);
}

/// <summary>
/// The admin's changes to the tax rules. Every change, a restore included, is a new version, audited with the admin, the reason
/// and the table before and after; invoices issued from then on follow the newest version, issued ones keep the tax they were
/// issued with (stored on their lines).
/// </summary>
public sealed class TaxRuleCommands(BillingDbContext db, AuditTrail audit, TimeProvider clock, IValidator<SaveTaxTable> validator)
{
    /// <summary>The version in force; version 0 with an empty table before an admin saved one.</summary>
    public async Task<TaxTableVersionView> CurrentAsync(CancellationToken ct) =>
        (await VersionsAsync(ct)).FirstOrDefault() ?? new TaxTableVersionView(0, TaxTable.Empty, string.Empty, string.Empty, DateTimeOffset.MinValue);

    /// <summary>Every version, newest first (rates change a few times a year, so the list stays short).</summary>
    public async Task<IReadOnlyList<TaxTableVersionView>> VersionsAsync(CancellationToken ct) =>
        await db.TaxTables.AsNoTracking().OrderByDescending(t => t.Version)
            .Select(t => new TaxTableVersionView(t.Version, t.Table, t.CreatedBy, t.Reason, t.CreatedAt))
            .ToListAsync(ct);

    public async Task<TaxTableVersionView> SaveAsync(SaveTaxTable command, Actor actor, CancellationToken ct)
    {
        await validator.ValidateAndThrowAsync(command, ct);
        var table = new TaxTable(command.SellerCountry!.Trim().ToUpperInvariant(),
            [.. command.Rules.Select(r => r.ToRule()).OrderBy(r => r.Country).ThenBy(r => r.Region).ThenBy(r => r.From)]);
        return await AddVersionAsync(table, "tax_table.saved", actor, command.Reason!.Trim(), ct);
    }

    /// <summary>Adds one rule to the table in force, as a new version.</summary>
    public async Task<TaxTableVersionView> AddRuleAsync(TaxRuleInput rule, string? sellerCountry, Actor actor, string? reason, CancellationToken ct)
    {
        var current = await CurrentAsync(ct);
        return await SaveAsync(new SaveTaxTable(sellerCountry ?? current.Table.SellerCountry,
            [.. current.Table.Rules.Select(TaxRuleInput.Of), rule], reason), actor, ct);
    }

    /// <summary>Takes one rule out of the table in force, as a new version.</summary>
    public async Task<TaxTableVersionView> RemoveRuleAsync(TaxRule rule, Actor actor, string? reason, CancellationToken ct)
    {
        var current = await CurrentAsync(ct);
        if (!current.Table.Rules.Contains(rule)) throw new DomainRuleException($"The table in force has no rule for {rule.Place} from {rule.From:yyyy-MM-dd}.");
        return await SaveAsync(new SaveTaxTable(current.Table.SellerCountry,
            [.. current.Table.Rules.Where(r => r != rule).Select(TaxRuleInput.Of)], reason), actor, ct);
    }

    /// <summary>Puts an older version's table back in force, as a new version.</summary>
    public async Task<TaxTableVersionView> RestoreAsync(int version, Actor actor, string reason, CancellationToken ct)
    {
        AuditTrail.RequireReason(reason);
        var restored = await db.TaxTables.AsNoTracking().FirstOrDefaultAsync(t => t.Version == version, ct)
            ?? throw new DomainRuleException($"There is no tax table version {version}.");
        return await AddVersionAsync(restored.Table, "tax_table.restored", actor, $"Restored version {version}: {reason}", ct);
    }

    private async Task<TaxTableVersionView> AddVersionAsync(TaxTable table, string action, Actor actor, string reason, CancellationToken ct)
    {
        var current = await CurrentAsync(ct);
        var saved = new TaxTableVersion(current.Version + 1, table, actor.Name, reason, clock.GetUtcNow());
        db.TaxTables.Add(saved);
        audit.Record(actor, action, "tax_table", saved.Version.ToString(CultureInfo.InvariantCulture), reason,
            current.Version == 0 ? null : TaxTableAudit.From(current.Table), TaxTableAudit.From(table));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            throw new DomainRuleException($"Another admin saved tax table version {saved.Version} a moment ago: reload the page and try again.");
        }
        return new TaxTableVersionView(saved.Version, saved.Table, saved.CreatedBy, saved.Reason, saved.CreatedAt);
    }
}

/// <summary>A table as the audit log shows it: one readable line per rule.</summary>
public sealed record TaxTableAudit(string SellerCountry, IReadOnlyList<string> Rules)
{
    public static TaxTableAudit From(TaxTable table) => new(table.SellerCountry,
        [.. table.Rules.Select(r => $"{r.Place} {TaxTable.Percent(r.Rate)} from {r.From:yyyy-MM-dd}")]);
}

/// <summary>
/// The tax each customer's invoice lines follow: the newest tax table, the billing address and tax number, and the fallback
/// rate of the Billing settings for places without a rule. A billing chunk asks for all its customers at once (two queries).
/// </summary>
public sealed class CustomerTaxes(BillingDbContext db, IOptionsMonitor<BillingOptions> options)
{
    public async Task<TaxTable> TableAsync(CancellationToken ct) =>
        await db.TaxTables.AsNoTracking().OrderByDescending(t => t.Version).Select(t => t.Table).FirstOrDefaultAsync(ct) ?? TaxTable.Empty;

    public async Task<InvoiceTax> ForAsync(Customer customer, CancellationToken ct) =>
        new(await TableAsync(ct), new TaxPayer(customer.Address.Country, customer.Address.Region, customer.TaxId), options.CurrentValue.TaxRate);

    public async Task<IReadOnlyDictionary<Guid, InvoiceTax>> ForAsync(IReadOnlyCollection<Guid> customerIds, CancellationToken ct)
    {
        var table = await TableAsync(ct);
        var fallback = options.CurrentValue.TaxRate;
        var payers = await db.Customers.AsNoTracking().Where(c => customerIds.Contains(c.Id))
            .Select(c => new { c.Id, c.Address.Country, c.Address.Region, c.TaxId })
            .ToListAsync(ct);
        return payers.ToDictionary(p => p.Id, p => new InvoiceTax(table, new TaxPayer(p.Country, p.Region, p.TaxId), fallback));
    }
}
