namespace BillingConsole.Persistence;

/// <summary>
/// How figures and lists leave out the customers on a test clock. The clocks' customers are few, so the condition is a
/// hashed look-up in the partial index on <c>customers.test_clock_id</c>, not a join: it costs a read over a million rows
/// next to nothing, and it keeps the lists' counts free of the customers join.
/// </summary>
public static class TestCustomers
{
    /// <summary>A SQL condition true for rows whose <paramref name="customerIdColumn"/> is a customer without a test clock.</summary>
    public static string Excluded(string customerIdColumn) =>
        $"{customerIdColumn} not in (select id from customers where test_clock_id is not null)";
}
