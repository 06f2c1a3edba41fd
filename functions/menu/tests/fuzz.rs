//! Fuzzing the menu's paths (see `testkit::fuzz`): any pizzeria
//! id, method and `If-None-Match`. Every answer is a 200, a 304 or a 4xx
//! problem.

use proptest::prelude::*;
use sqlx::MySqlPool;
use testkit::fuzz::{self, HttpCase};

#[sqlx::test(migrations = "../../migrations")]
async fn any_path_is_a_menu_or_a_problem(pool: MySqlPool) {
    ocpizza::samples::load_demo(&pool).await.unwrap();
    let state = menu::State::new(pool.clone(), Default::default());
    let pizzeria = fuzz::path_segment((1..=9).map(|n: i32| n.to_string()).collect());
    let path = prop_oneof![
        4 => pizzeria.clone().prop_map(|p| format!("/pizzerias/{p}/menu")),
        1 => Just("/pizzerias".to_owned()),
        1 => (fuzz::path_segment(vec!["pizzerias".into()]), pizzeria, fuzz::path_segment(vec!["menu".into()]))
            .prop_map(|(a, b, c)| format!("/{a}/{b}/{c}")),
    ];
    let if_none_match = prop_oneof![
        3 => Just(None),
        1 => proptest::sample::select(vec!["*", "W/\"x\"", "\"\"", ",,,"]).prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => fuzz::header_bytes().prop_map(Some),
    ];
    let cases = (fuzz::method("GET"), path, if_none_match).prop_map(|(method, path, etag)| {
        HttpCase::new(&method, path).header("if-none-match", etag)
    });
    let inputs = fuzz::generate("menu paths", cases);
    fuzz::run_http("menu paths", inputs, |req| {
        let state = state.clone();
        async move { menu::handle(&state, req).await }
    })
    .await;
}
