using Npgsql;

namespace BillingConsole.Persistence.DemoData;

/// <summary>
/// One column of a copied table and the SQL that gives its value in a copy (null: left out, the database fills it).
/// <paramref name="RemapsText"/>: a text whose uuids are mapped (see <see cref="DemoReplicaSchema.RemappedText"/>).
/// </summary>
internal sealed record DemoReplicaColumn(string Name, string? CopyExpression, bool RemapsText = false);

/// <summary>
/// A table whose rows belong to a customer: its columns, and the parent (customers, or a table reached from customers) through
/// which each row finds its owning customer.
/// </summary>
internal sealed record DemoReplicaTable(string Name, string? OwnerParent, string? OwnerColumn, string? OwnerParentColumn,
    IReadOnlyList<DemoReplicaColumn> Columns)
{
    /// <summary>The base rows of this table, each with its owning customer (demo_owner), kept aside before copies are written.</summary>
    public string Snapshot => $"{DemoReplicaSchema.WorkSchema}.{Name}";
}

/// <summary>
/// Finds, from PostgreSQL's catalog, every table a customer's rows live in and how each column is copied. A table is copied
/// when it has a foreign key to customers or to a table already copied (transitively), so a table added later is copied
/// without code changes. In a copy:
/// <list type="bullet">
/// <item>every uuid column gets md5(old || ':' || copy)::uuid, unless it is a foreign key to a table that is not copied
/// (plans, prices, billing runs, coupons, test clocks: shared rows keep their references); the same function everywhere
/// makes references between copied rows, and ids written into texts, agree without a lookup;</item>
/// <item>texts in a unique index, and the gateway references in <see cref="ReferenceColumns"/>: every uuid written in them
/// (with or without dashes) is mapped the same way, and a text with none (a sandbox card token, an invoice number before
/// renumbering) gets "-r{copy}" appended;</item>
/// <item>the customer's name, email and external reference are the copy's own, and so is the recipient of its emails;</item>
/// <item>identity and generated columns are filled by the database; everything else is the original's value.</item>
/// </list>
/// </summary>
internal static class DemoReplicaSchema
{
    /// <summary>The schema holding the base snapshots, the copies and the text function while a replication runs.</summary>
    public const string WorkSchema = "demo_replica";

    /// <summary>The base population: customers that are not on a test clock (those belong to their clock and go with it).</summary>
    public const string BaseCustomers = "test_clock_id is null";

    /// <summary>Customer links that are not foreign keys (table, column): customer_notes.customer_id has none in the schema.</summary>
    private static readonly (string Table, string Column)[] CustomerLinksWithoutForeignKey = [("customer_notes", "customer_id")];

    /// <summary>References to a copied payment that are not unique but must stay distinct and agree between the attempt and its refund.</summary>
    private static readonly HashSet<(string, string)> ReferenceColumns =
        [("payment_attempts", "gateway_reference"), ("refunds", "charge_reference"), ("refunds", "gateway_reference")];

    /// <summary>Columns a copy takes from its own person (the copies table, k) instead of from the original (b).</summary>
    private static readonly Dictionary<(string, string), string> PersonalColumns = new()
    {
        [("customers", "id")] = "k.new_id",
        [("customers", "name")] = "k.name",
        [("customers", "email")] = "k.email",
        [("customers", "external_ref")] = "case when b.external_ref is null then null else k.external_ref end",
        [("notifications", "recipient")] = "replace(b.recipient, k.base_email, k.email)",
        [("notifications", "subject")] = "replace(b.subject, k.base_name, k.name)",
    };

    private sealed record ForeignKey(string Table, string Column, string Parent, string ParentColumn, bool NotNull);

    private sealed record CatalogColumn(string Name, string Type, bool FilledByDatabase);

    /// <summary>The copied tables, customers first and every table after the tables it refers to (single-column foreign keys: the schema has no others).</summary>
    public static async Task<IReadOnlyList<DemoReplicaTable>> DescribeAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var foreignKeys = new List<ForeignKey>();
        await using (var command = dataSource.CreateCommand("""
            select t.relname, a.attname, p.relname, pa.attname, a.attnotnull
            from pg_constraint c
            join pg_class t on t.oid = c.conrelid join pg_class p on p.oid = c.confrelid
            join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
            join pg_attribute pa on pa.attrelid = c.confrelid and pa.attnum = c.confkey[1]
            where c.contype = 'f' and cardinality(c.conkey) = 1 and t.relnamespace = current_schema()::regnamespace
            order by 1, 2
            """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                foreignKeys.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4)));
        }
        foreignKeys.AddRange(CustomerLinksWithoutForeignKey.Select(link => new ForeignKey(link.Table, link.Column, "customers", "id", true)));

        var columns = new Dictionary<string, List<CatalogColumn>>();
        await using (var command = dataSource.CreateCommand("""
            select table_name, column_name, udt_name, is_generated = 'ALWAYS' or is_identity = 'YES'
            from information_schema.columns where table_schema = current_schema() order by table_name, ordinal_position
            """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var table = reader.GetString(0);
                if (!columns.TryGetValue(table, out var list)) columns[table] = list = [];
                list.Add(new(reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
            }
        }

        var uniqueTexts = new HashSet<(string, string)>();
        // In a unique index over several texts only the last is made unique: the others name something shared, such as
        // the gateway of (gateway, token), which must stay as it is for the copy's card to be charged.
        await using (var command = dataSource.CreateCommand("""
            select distinct relname, attname from (
                select distinct on (i.indexrelid) t.relname, a.attname
                from pg_index i join pg_class t on t.oid = i.indrelid
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                where i.indisunique and t.relnamespace = current_schema()::regnamespace
                  and a.atttypid in ('text'::regtype, 'varchar'::regtype)
                order by i.indexrelid, array_position(i.indkey::int2[], a.attnum) desc) last_text
            """))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) uniqueTexts.Add((reader.GetString(0), reader.GetString(1)));
        }

        var order = CopiedTablesInOrder(foreignKeys);
        var copied = order.ToHashSet();
        return order.Select(table =>
        {
            var owner = table == "customers" ? null : OwnerLink(table, foreignKeys, order);
            var copiedColumns = columns[table].Select(column =>
                column.FilledByDatabase ? new DemoReplicaColumn(column.Name, null)
                : column.Type is "text" or "varchar" && (uniqueTexts.Contains((table, column.Name)) || ReferenceColumns.Contains((table, column.Name)))
                    ? new DemoReplicaColumn(column.Name, RemappedText(column.Name), RemapsText: true)
                    : new DemoReplicaColumn(column.Name, CopyExpression(table, column, foreignKeys, copied))).ToList();
            return new DemoReplicaTable(table, owner?.Parent, owner?.Column, owner?.ParentColumn, copiedColumns);
        }).ToList();
    }

    /// <summary>Customers, then every table with a link to a copied table, each after all the copied tables it refers to.</summary>
    private static List<string> CopiedTablesInOrder(IReadOnlyList<ForeignKey> foreignKeys)
    {
        var reached = new HashSet<string> { "customers" };
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var key in foreignKeys.Where(key => reached.Contains(key.Parent) && key.Table != key.Parent))
                grew |= reached.Add(key.Table);
        }
        var order = new List<string>();
        var placed = new HashSet<string>();
        while (placed.Count < reached.Count)
        {
            var ready = reached.Where(table => !placed.Contains(table) && foreignKeys
                    .Where(key => key.Table == table && key.Parent != table && reached.Contains(key.Parent))
                    .All(key => placed.Contains(key.Parent)))
                .Order(StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
                throw new InvalidOperationException($"The customer tables refer to each other in a cycle: {string.Join(", ", reached.Except(placed))}.");
            order.AddRange(ready);
            placed.UnionWith(ready);
        }
        return order;
    }

    /// <summary>The link a row finds its customer through: straight to customers when it has one, else its earliest not-null parent.</summary>
    private static ForeignKey OwnerLink(string table, IReadOnlyList<ForeignKey> foreignKeys, List<string> order) =>
        foreignKeys.Where(key => key.Table == table && key.Parent != table && order.Contains(key.Parent))
            .OrderBy(key => key.Parent == "customers" ? 0 : 1).ThenBy(key => key.NotNull ? 0 : 1).ThenBy(key => order.IndexOf(key.Parent))
            .ThenBy(key => key.Column, StringComparer.Ordinal)
            .First();

    private static string CopyExpression(string table, CatalogColumn column, IReadOnlyList<ForeignKey> foreignKeys, HashSet<string> copied)
    {
        if (PersonalColumns.TryGetValue((table, column.Name), out var personal)) return personal;
        var quoted = $"b.{Quote(column.Name)}";
        var sharedReference = foreignKeys.Any(key => key.Table == table && key.Column == column.Name && !copied.Contains(key.Parent));
        return column.Type switch
        {
            "uuid" when !sharedReference => MapId(quoted),
            "_uuid" => $"(select array_agg({MapId("u.id")} order by u.position) from unnest({quoted}) with ordinality u(id, position))",
            _ => quoted,
        };
    }

    /// <summary>The copy's id of the row whose id is <paramref name="id"/> (null stays null).</summary>
    public static string MapId(string id) => $"md5({id}::text || ':' || k.copy_number)::uuid";

    public static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>A uuid written in a text: 36 characters with dashes, or 32 hex digits.</summary>
    private const string UuidInText = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}";

    /// <summary>
    /// What the base snapshot keeps beside a remapped text <paramref name="column"/>, once per base row rather than per copy:
    /// how many uuids it holds, and for one, the text before it, the uuid, whether it was written without dashes and the text after.
    /// </summary>
    public static string TextParts(string column)
    {
        var value = $"b.{Quote(column)}";
        return $"""
            regexp_count({value}, '{UuidInText}') as {Quote(column + ":uuids")},
            left({value}, regexp_instr({value}, '{UuidInText}') - 1) as {Quote(column + ":before")},
            substring({value} from '{UuidInText}')::uuid as {Quote(column + ":uuid")},
            length(substring({value} from '{UuidInText}')) = 32 as {Quote(column + ":hex")},
            substr({value}, regexp_instr({value}, '{UuidInText}', 1, 1, 1)) as {Quote(column + ":after")}
            """;
    }

    /// <summary>
    /// A remapped text in a copy, from its parts (<see cref="TextParts"/>): with no uuid, the text and "-r{copy}"; with one,
    /// the uuid mapped in the form it was written (md5's hex is the dashless form of the mapped uuid); with more, the work
    /// schema's remap_text.
    /// </summary>
    private static string RemappedText(string column) => $"""
        case b.{Quote(column + ":uuids")}
            when 0 then b.{Quote(column)} || '-r' || k.copy_number
            when 1 then b.{Quote(column + ":before")}
                || case when b.{Quote(column + ":hex")} then md5(b.{Quote(column + ":uuid")}::text || ':' || k.copy_number) else {MapId($"b.{Quote(column + ":uuid")}")}::text end
                || b.{Quote(column + ":after")}
            else {WorkSchema}.remap_text(b.{Quote(column)}, k.copy_number) end
        """;

    /// <summary>
    /// The work schema's function for texts that hold several uuids: each becomes the copy's uuid in the same form; a text
    /// without one gets "-r{copy}" appended.
    /// </summary>
    public const string RemapTextFunction = $$"""
        create function {{WorkSchema}}.remap_text(value text, copy_number int) returns text language plpgsql immutable as $$
        declare
            found text;
            mapped text;
            result text := value;
        begin
            if value is null then return null; end if;
            for found in
                select distinct m[1] from regexp_matches(value, '({{UuidInText}})', 'g') m
            loop
                mapped := md5(found::uuid::text || ':' || copy_number)::uuid::text;
                if length(found) = 32 then mapped := replace(mapped, '-', ''); end if;
                result := replace(result, found, mapped);
            end loop;
            if result = value then result := value || '-r' || copy_number; end if;
            return result;
        end $$
        """;

    /// <summary>The text a copied number had before renumbering, without the "-r{copy}" appended to it.</summary>
    public static string OriginalText(string column) => $"regexp_replace({column}, '-r[0-9]+$', '')";
}
