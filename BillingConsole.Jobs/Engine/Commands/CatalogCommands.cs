using BillingConsole.Domain.Catalog;
using BillingConsole.Domain.Common;
using BillingConsole.Persistence;
using BillingConsole.ReadModels;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace BillingConsole.Engine.Commands;

/// <summary>
/// The catalog as admins keep it: plans, their prices, and archiving a price. An archived price stays on the subscriptions
/// that have it (they renew at it) but no new subscription or plan change can take it.
/// </summary>
public sealed class CatalogCommands(
    BillingDbContext db,
    AuditTrail audit,
    IValidator<CreatePlan> planValidator,
    IValidator<AddPrice> priceValidator)
{
    public async Task<IReadOnlyList<PlanView>> ListAsync(CancellationToken ct) =>
        [.. (await db.Plans.AsNoTracking().Include(p => p.Prices).OrderBy(p => p.Name).ThenBy(p => p.Code).ToListAsync(ct)).Select(PlanView.From)];

    /// <summary>The first plans by name whose name or code contains <paramref name="search"/>, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<PlanView>> FindAsync(string? search, int limit, CancellationToken ct)
    {
        var plans = db.Plans.AsNoTracking().Include(p => p.Prices).AsQueryable();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = $"%{ListText.EscapeLike(search.Trim())}%";
            plans = plans.Where(p => EF.Functions.ILike(p.Name, pattern) || EF.Functions.ILike(p.Code, pattern));
        }
        return [.. (await plans.OrderBy(p => p.Name).ThenBy(p => p.Code).Take(limit).ToListAsync(ct)).Select(PlanView.From)];
    }

    public async Task<PlanView> CreatePlanAsync(CreatePlan command, Actor actor, string reason, CancellationToken ct)
    {
        await planValidator.ValidateAndThrowAsync(command, ct);
        var code = command.Code!.Trim();
        if (await db.Plans.AnyAsync(p => p.Code == code, ct)) throw new DomainRuleException($"A plan with the code {code} already exists.");
        var plan = new Plan(code, command.Name!, command.Description?.Trim() ?? string.Empty);
        foreach (var price in command.Prices ?? []) AddTo(plan, price);
        db.Plans.Add(plan);
        var view = PlanView.From(plan);
        audit.Record(actor, "plan.created", "plan", plan.Id, reason, after: view);
        await db.SaveChangesAsync(ct);
        return view;
    }

    /// <summary>A new price for an existing plan: how the catalog changes a price without touching anyone who has the old one.</summary>
    public async Task<PriceView> AddPriceAsync(Guid planId, AddPrice command, Actor actor, string reason, CancellationToken ct)
    {
        await priceValidator.ValidateAndThrowAsync(command, ct);
        var plan = await db.Plans.Include(p => p.Prices).SingleOrDefaultAsync(p => p.Id == planId, ct)
                   ?? throw new ResourceNotFoundException("plan", planId);
        var view = PriceView.From(AddTo(plan, command));
        audit.Record(actor, "price.created", "price", view.Id, reason, after: view);
        await db.SaveChangesAsync(ct);
        return view;
    }

    public async Task<PriceView> ArchivePriceAsync(Guid priceId, Actor actor, string reason, CancellationToken ct)
    {
        var price = await db.Prices.SingleOrDefaultAsync(p => p.Id == priceId, ct) ?? throw new ResourceNotFoundException("price", priceId);
        var before = PriceView.From(price);
        price.Retire();
        var after = PriceView.From(price);
        audit.Record(actor, "price.archived", "price", priceId, reason, before, after);
        await db.SaveChangesAsync(ct);
        return after;
    }

    private static Price AddTo(Plan plan, AddPrice price) =>
        plan.AddPrice(new Money(price.Amount!.Value, price.Currency!.ToUpperInvariant()),
            price.Interval == "year" ? BillingInterval.Year : BillingInterval.Month, price.TrialDays ?? 0);
}
