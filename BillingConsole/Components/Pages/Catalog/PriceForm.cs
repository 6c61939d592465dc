using BillingConsole.Engine.Commands;

namespace BillingConsole.Components.Pages.Catalog;

/// <summary>A price as its form holds it; the engine's validator judges it when the form is sent.</summary>
public sealed class PriceForm
{
    public string? Currency { get; set; } = "USD";
    public decimal? Amount { get; set; }
    public string Interval { get; set; } = "month";
    public int TrialDays { get; set; }

    public AddPrice ToCommand() => new(Currency, Amount, Interval, TrialDays);
}
