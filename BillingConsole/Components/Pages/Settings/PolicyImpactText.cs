using BillingConsole.Domain.Common;
using BillingConsole.Domain.Dunning;
using BillingConsole.Engine.Dunning;

namespace BillingConsole.Components.Pages.Settings;

/// <summary>What saving a dunning policy does to open cases, in the sentences the confirmation step and the snackbar show.</summary>
public static class PolicyImpactText
{
    /// <summary>True when saving closes a case or writes off money at once or at the next ladder pass.</summary>
    public static bool MovesMoney(PolicyImpactPreview impact) => impact.OnSave.CasesClosing > 0 || impact.CasesClosingAtLadderPass > 0;

    public static IReadOnlyList<string> Sentences(PolicyImpactPreview impact, FinalAction finalAction)
    {
        var now = impact.OnSave;
        var action = FinalActionText(finalAction);
        var sentences = new List<string>
        {
            now.CasesWaiting == 0
                ? "No case is waiting for a retry: saving reschedules nothing."
                : $"Of {Cases(now.CasesWaiting)} waiting for a retry: {Cases(now.CasesClosing)} {Verb(now.CasesClosing, "close")} now ({action})" +
                  $"{WritingOff(now.WrittenOff)}, {Retries(now.RetriesMoving)} {Verb(now.RetriesMoving, "move")}, " +
                  $"{Cases(now.CasesAwaitingNewCard)} {Verb(now.CasesAwaitingNewCard, "wait")} for a new card.",
        };
        if (impact.CasesClosingAtLadderPass > 0)
            sentences.Add($"{Cases(impact.CasesClosingAtLadderPass)} past the new final-action day {Verb(impact.CasesClosingAtLadderPass, "close")} at the next ladder pass " +
                          $"({action}){WritingOff(impact.WrittenOffAtLadderPass)}.");
        sentences.Add("Choose \"New cases only\" to leave open cases on the version they follow.");
        return sentences;
    }

    public static string NewCasesOnly(int currentVersion) =>
        $"New cases only: open cases keep the version they follow (version {currentVersion} or older); cases opened from now on follow the new version. Nothing changes for open cases.";

    /// <summary>What a save did, for the snackbar.</summary>
    public static string Saved(DunningPolicySaved saved) => saved.Saved.AppliesToOpenCases
        ? $"Version {saved.Saved.Version} saved and in force for open cases: {Cases(saved.Impact.CasesClosing)} closed{WritingOff(saved.Impact.WrittenOff, "wrote off")}, " +
          $"{Retries(saved.Impact.RetriesMoving)} moved, {Cases(saved.Impact.CasesAwaitingNewCard)} waiting for a new card."
        : $"Version {saved.Saved.Version} saved for new cases only; open cases keep their version.";

    private static string FinalActionText(FinalAction action) => action switch
    {
        FinalAction.MarkUncollectible => "the invoice is marked uncollectible",
        FinalAction.CancelSubscription => "the subscription is canceled",
        _ => "the subscription is marked unpaid",
    };

    private static string WritingOff(IReadOnlyList<Money> amounts, string verb = "writing off") =>
        amounts.Count == 0 ? string.Empty : $", {verb} {string.Join(" and ", amounts.Select(m => Currencies.Format(m)))}";

    private static string Cases(int count) => count == 1 ? "1 case" : $"{count} cases";

    private static string Retries(int count) => count == 1 ? "1 retry" : $"{count} retries";

    private static string Verb(int count, string verb) => count == 1 ? verb + "s" : verb;
}
