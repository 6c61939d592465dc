namespace BillingConsole.Persistence.DemoData;

internal sealed record DemoCity(string Name, string[] PostalCodes);

internal sealed record DemoCountry(string Code, string Currency, decimal TaxRate, int Weight, string CompanySuffix, bool NumberFirst,
    string[] Streets, DemoCity[] Cities);

/// <summary>Small built-in lists that names, e-mail addresses and postal addresses are drawn from. All domains are .example.</summary>
internal static class DemoPeople
{
    private static readonly string[] EnglishStreets =
        ["Market Street", "Harbor Avenue", "King Street", "Mill Lane", "Park Road", "Station Road", "Elm Street", "Broadway",
         "Queen Street", "Church Lane", "Maple Avenue", "High Street", "Riverside Drive", "Oak Street", "Victoria Road"];

    public static readonly DemoCountry[] Countries =
    [
        new("US", "USD", 0m, 44, "Inc.", true, EnglishStreets,
        [
            new("New York", ["10001", "10011", "10013", "10016"]), new("San Francisco", ["94103", "94105", "94107", "94110"]),
            new("Austin", ["78701", "78702", "78704"]), new("Seattle", ["98101", "98104", "98109"]),
            new("Chicago", ["60601", "60607", "60614"]), new("Denver", ["80202", "80205"]),
            new("Boston", ["02108", "02110", "02116"]), new("Atlanta", ["30303", "30308"]),
        ]),
        new("GB", "USD", 0m, 10, "Ltd", true, EnglishStreets,
        [
            new("London", ["EC1V 9HX", "SE1 9GF", "N1 7GU", "E2 8DY", "W1T 1JY"]), new("Manchester", ["M1 1AE", "M4 1HN"]),
            new("Bristol", ["BS1 4DJ"]), new("Edinburgh", ["EH1 1YZ", "EH3 9DR"]),
        ]),
        new("CA", "USD", 0m, 7, "Inc.", true, EnglishStreets,
        [
            new("Toronto", ["M5V 2T6", "M5H 2N2"]), new("Vancouver", ["V6B 1A1", "V5T 1R4"]), new("Montréal", ["H2Y 1C6"]),
        ]),
        new("AU", "USD", 0m, 5, "Pty Ltd", true, EnglishStreets,
        [
            new("Sydney", ["2000", "2010"]), new("Melbourne", ["3000", "3065"]), new("Brisbane", ["4000"]),
        ]),
        new("DE", "EUR", 0.19m, 13, "GmbH", false, ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Lindenallee", "Torstraße"],
        [
            new("Berlin", ["10115", "10178", "10997"]), new("München", ["80331", "80469"]), new("Hamburg", ["20095", "22765"]),
            new("Köln", ["50667"]),
        ]),
        new("FR", "EUR", 0.20m, 8, "SAS", true, ["rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "rue du Faubourg Saint-Antoine"],
        [
            new("Paris", ["75002", "75011", "75018"]), new("Lyon", ["69002", "69007"]), new("Bordeaux", ["33000"]),
        ]),
        new("NL", "EUR", 0.21m, 6, "B.V.", false, ["Prinsengracht", "Keizersgracht", "Stationsplein", "Kerkstraat"],
        [
            new("Amsterdam", ["1012 AB", "1017 CE", "1052 JL"]), new("Rotterdam", ["3011 AD"]), new("Utrecht", ["3511 LN"]),
        ]),
        new("IE", "EUR", 0.23m, 3, "Ltd", true, ["Grafton Street", "Baggot Street", "South Mall"],
        [
            new("Dublin", ["D02 X285", "D08 VF8H"]), new("Cork", ["T12 XY2E"]),
        ]),
        new("ES", "EUR", 0.21m, 4, "S.L.", false, ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avenida Diagonal"],
        [
            new("Madrid", ["28004", "28013"]), new("Barcelona", ["08001", "08012"]), new("Valencia", ["46002"]),
        ]),
    ];

    public static readonly int[] CountryWeights = Countries.Select(c => c.Weight).ToArray();

    public static readonly string[] FirstNames =
    [
        "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas", "Charlotte", "Mateo", "Isabella", "Leo",
        "Hannah", "Jonas", "Lena", "Felix", "Clara", "Paul", "Chloé", "Hugo", "Léa", "Louis", "Sofia", "Daan", "Julia", "Sem", "Lucía",
        "Pablo", "Aoife", "Conor", "Priya", "Arjun", "Mei", "Wei", "Yuki", "Haruto", "Fatima", "Omar", "Amara", "Kwame", "Ana", "Diego",
        "Nora", "Erik", "Ingrid", "Mateus", "Zoe", "Ethan", "Grace", "Samuel", "Maya", "Daniel", "Aisha", "Tomás", "Elena", "Marco",
    ];

    public static readonly string[] LastNames =
    [
        "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Wilson", "Anderson", "Taylor", "Thomas",
        "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Müller", "Schmidt", "Schneider", "Fischer",
        "Weber", "Meyer", "Wagner", "Dubois", "Lefebvre", "Moreau", "Laurent", "de Vries", "van Dijk", "Bakker", "Jansen", "Visser",
        "Murphy", "Kelly", "O'Brien", "Walsh", "Fernández", "López", "Sánchez", "Pérez", "Nguyen", "Kim", "Patel", "Singh", "Chen",
        "Wang", "Tanaka", "Sato", "Okafor", "Mensah", "Silva", "Costa", "Nowak", "Kowalski", "Novak", "Andersson",
    ];

    public static readonly string[] CompanyWords =
    [
        "Blue", "Bright", "Cedar", "Clear", "Copper", "Crimson", "Evergreen", "Golden", "Granite", "Harbor", "Iron", "Juniper",
        "Lumen", "Maple", "Meridian", "North", "Oak", "Orbit", "Pine", "Quartz", "Red", "Silver", "Summit", "True", "Violet",
        "West", "Willow", "Zephyr", "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Glacier", "Horizon", "Keystone",
        "Lighthouse", "Nimbus", "Polar", "River", "Sparrow", "Tidal", "Vertex",
    ];

    public static readonly string[] CompanyKinds =
    [
        "Analytics", "Bakery", "Bio", "Cloud", "Collective", "Consulting", "Design", "Dynamics", "Foods", "Health", "Insights",
        "Labs", "Logistics", "Media", "Robotics", "Software", "Studio", "Systems", "Ventures", "Works", "Architects", "Dental",
        "Fitness", "Games", "Legal", "Marketing", "Outfitters", "Partners", "Print", "Travel",
    ];

    public static readonly string[] BillingMailboxes = ["billing", "finance", "accounts", "ap", "invoices"];

    public static readonly string[] PersonalMailDomains = ["mail.example", "inbox.example", "post.example", "webmail.example"];

    public static string AsciiSlug(string text)
    {
        var normalized = text.Normalize(System.Text.NormalizationForm.FormD);
        var builder = new System.Text.StringBuilder(normalized.Length);
        foreach (var ch in normalized)
        {
            if (char.IsAsciiLetterOrDigit(ch)) builder.Append(char.ToLowerInvariant(ch));
        }
        return builder.ToString();
    }
}
